package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.fail;

import dev.panamaformer.kernels.FloatTensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Every layer's backward against central finite differences of the loss: two elements of every
 * parameter tensor (token and position embeddings, every LayerNorm, every Q/K/V/O projection of
 * self, causal and cross attention, both feed-forward layers, the generator) on random small
 * shapes with padding. GELU keeps the loss smooth; ReLU's kink would make the differences lie
 * (the PyTorch fixtures cover ReLU).
 */
class GradientCheckTest {

    @Property(tries = 24)
    void everyParameterGradientMatchesFiniteDifferences(@ForAll TransformerConfig.Positions positions, @ForAll @IntRange(min = 1, max = 3) int b,
                                                        @ForAll @IntRange(min = 1, max = 5) int s, @ForAll @IntRange(min = 1, max = 5) int t,
                                                        @ForAll boolean explicitPositions, @ForAll long seed) {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
        Random r = new Random(seed);
        Batch batch = TestModels.randomBatch(r, config, b, s, t);
        if (explicitPositions) { // ids in any order, repeated too, as a task may number tokens
            batch = TestModels.withPositions(batch, TestModels.randomIds(r, b * s, config.maxPositions()),
                    TestModels.randomIds(r, b * t, config.maxPositions()));
        }
        try (Transformer model = new Transformer(config, seed)) {
            model.parameters().zeroGrad();
            model.forward(batch, false, 0);
            model.backward();
            for (Parameter p : model.parameters().list()) {
                float[] grad = p.grad().toArray();
                double scale = 0;
                for (float g : grad) {
                    scale = Math.max(scale, Math.abs(g));
                }
                for (int trial = 0; trial < 2; trial++) {
                    int i = r.nextInt((int) p.size());
                    double numeric = centralDifference(model, batch, p.value(), i, 1e-2f);
                    double err = Math.abs(numeric - grad[i]);
                    // float32 forward passes: the difference quotient carries ~1e-4 of noise
                    if (!(err <= 2e-3 + 2e-2 * Math.max(Math.abs(numeric), 0.1 * scale))) {
                        fail(p.name() + "[" + i + "]: backward " + grad[i] + ", finite differences " + numeric);
                    }
                }
            }
        }
    }

    private static double centralDifference(Transformer model, Batch batch, FloatTensor value, int i, float h) {
        float saved = value.get(i);
        value.set(i, saved + h);
        double plus = model.forward(batch, false, 0);
        value.set(i, saved - h);
        double minus = model.forward(batch, false, 0);
        value.set(i, saved);
        return (plus - minus) / (2.0 * h);
    }
}
