package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.model.Transformer.Attention;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The model on the fused attention path against the same model on the materialized one: same
 * weights, batch and seed, so dropout drops the same probabilities; loss and logits within 1e-5,
 * every parameter's gradient within 1e-4 of the tensor's largest, and the attention pictures equal
 * up to rounding.
 */
class FusedAttentionModelTest {
    private static final TransformerConfig CONFIG = TransformerConfig.of(13, 32, 2, 4, 48, 160).withDropout(0.1f, 0.2f)
            .withActivation(TransformerConfig.Activation.GELU);

    private static RunOptions fusedFrom(int keys) {
        return RunOptions.defaults().withFusedAttentionFrom(keys);
    }

    @Property(tries = 9)
    void fusedAndMaterializedPathsTrainAlike(@ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 150) int s,
                                             @ForAll @IntRange(min = 1, max = 150) int t, @ForAll TransformerConfig.Positions positions,
                                             @ForAll long seed) {
        TransformerConfig config = CONFIG.withPositions(positions);
        Batch batch = TestModels.randomBatch(new Random(seed), config, b, s, t);
        try (Transformer fused = new Transformer(config, 11, fusedFrom(1)); Transformer materialized = new Transformer(config, 11, fusedFrom(1000))) {
            double lossF = fused.forward(batch, true, seed), lossM = materialized.forward(batch, true, seed);
            assertEquals(lossM, lossF, 1e-5 * Math.abs(lossM), "loss");
            assertTrue(PyTorchParityTest.relativeError(materialized.logits().toArray(), fused.logits().toArray()) <= 1e-5, "logits");
            fused.backward();
            materialized.backward();
            double largest = 0;
            for (Parameter p : materialized.parameters().list()) {
                largest = Math.max(largest, PyTorchParityTest.maxAbs(p.grad().toArray()));
            }
            for (Parameter p : materialized.parameters().list()) {
                float[] expected = p.grad().toArray(), actual = fused.parameters().get(p.name()).grad().toArray();
                // a key bias moves all of a query's scores together, which softmax ignores: its
                // gradient is rounding noise, held to the scale of the model's gradients
                double floor = p.name().endsWith(".k.bias") ? largest : 0;
                double err = PyTorchParityTest.relativeError(expected, actual, floor);
                assertTrue(err <= 1e-4, p.name() + ": fused gradient differs by " + err);
            }
        }
    }

    @Property(tries = 4)
    void attentionPicturesComeFromEitherPath(@ForAll @IntRange(min = 1, max = 40) int s, @ForAll @IntRange(min = 1, max = 40) int t,
                                             @ForAll long seed) {
        Batch batch = TestModels.randomBatch(new Random(seed), CONFIG, 2, s, t);
        try (Transformer fused = new Transformer(CONFIG, 5, fusedFrom(1)); Transformer materialized = new Transformer(CONFIG, 5, fusedFrom(1000))) {
            fused.forward(batch, false, 0);
            materialized.forward(batch, false, 0);
            for (Attention kind : Attention.values()) {
                for (int layer = 0; layer < 2; layer++) {
                    float[] expected = materialized.attention(kind, layer).toArray(), actual = fused.attention(kind, layer).toArray();
                    assertEquals(2 * 4 * (kind == Attention.ENCODER_SELF ? s : t) * (kind == Attention.DECODER_SELF ? t : s),
                            actual.length, kind + " shape");
                    // the first self-attention layers see the same input on both paths, so their
                    // pictures differ only by the kernels' rounding; every later one (and cross-attention,
                    // which reads the whole encoder's output) sees an input that already carries the
                    // previous layers' rounding, which softmax can amplify: up to 9.2e-7 in 300 tries
                    double bound = layer == 0 && kind != Attention.CROSS ? 1e-6 : 1e-5;
                    double err = PyTorchParityTest.relativeError(expected, actual);
                    assertTrue(err <= bound, kind + " layer " + layer + ": pictures differ by " + err);
                }
            }
        }
    }
}
