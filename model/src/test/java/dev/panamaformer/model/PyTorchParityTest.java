package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.FloatTensor;
import java.nio.file.Path;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model against PyTorch on the same weights and inputs: logits and loss to 1e-5, every
 * parameter gradient to 1e-4, each relative to the largest magnitude of its tensor. The
 * fixtures come from src/test/python/torch_reference.py (see its docstring).
 */
class PyTorchParityTest {

    static Path fixture(String name) throws Exception {
        return Path.of(PyTorchParityTest.class.getResource("/fixtures/" + name + ".safetensors").toURI());
    }

    /** max |actual - expected| / max(max |expected|, floor). */
    static double relativeError(float[] expected, float[] actual, double floor) {
        assertEquals(expected.length, actual.length, "lengths");
        double err = 0, scale = floor;
        for (int i = 0; i < expected.length; i++) {
            err = Math.max(err, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return scale == 0 ? err : err / scale;
    }

    static double relativeError(float[] expected, float[] actual) {
        return relativeError(expected, actual, 0);
    }

    static double maxAbs(float[] values) {
        double m = 0;
        for (float v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static void loadParameters(SafeTensors f, Transformer model, String prefix) {
        TreeSet<String> fixtureNames = new TreeSet<>();
        for (String name : f.entries().keySet()) {
            if (name.startsWith(prefix)) {
                fixtureNames.add(name.substring(prefix.length()));
            }
        }
        TreeSet<String> modelNames = new TreeSet<>();
        for (Parameter p : model.parameters().list()) {
            modelNames.add(p.name());
            p.value().copyFrom(f.floats(prefix + p.name()));
        }
        assertEquals(fixtureNames, modelNames, "the same parameter names as PyTorch's state_dict");
    }

    /** The fixture's inputs as a batch, with its position ids where it has them. */
    static Batch batch(SafeTensors f) {
        int[] srcShape = f.entry("input.src").shape(), tgtShape = f.entry("input.tgt_in").shape();
        boolean ids = f.entries().containsKey("input.src_pos");
        return new Batch(srcShape[0], srcShape[1], tgtShape[1], f.ints("input.src"), f.ints("input.tgt_in"), f.ints("input.tgt_out"),
                ids ? f.ints("input.src_pos") : null, ids ? f.ints("input.tgt_pos") : null);
    }

    /**
     * Each fixture on the materialized attention path and on the fused one (every attention
     * fused): one per position type; gelu-rope_cross with RoPE's position scale 0.25 and explicit
     * position ids (random source ids, targets from a random start per row), relu-t5 and
     * gelu-alibi with source ids in [0, 400) (T5's log-spaced and clamped buckets; 3 heads),
     * gelu-rope_cross-window as gelu-rope_cross with an attention window of 1.
     */
    @ParameterizedTest
    @CsvSource({"relu-learned, false", "relu-learned, true", "gelu-sinusoidal, false", "gelu-sinusoidal, true",
            "relu-rope, false", "relu-rope, true", "gelu-rope_cross, false", "gelu-rope_cross, true",
            "relu-none, false", "relu-none, true", "relu-t5, false", "relu-t5, true", "gelu-alibi, false", "gelu-alibi, true",
            "gelu-t5_cross, false", "gelu-t5_cross, true", "gelu-rope_cross-window, false", "gelu-rope_cross-window, true"})
    void logitsLossAndEveryGradientMatchPyTorch(String name, boolean fused) throws Exception {
        try (SafeTensors f = SafeTensors.open(fixture(name))) {
            TransformerConfig config = TransformerConfig.fromJson(f.metadata().get("config"));
            RunOptions options = RunOptions.defaults().withFusedAttentionFrom(fused ? 1 : Integer.MAX_VALUE);
            Batch batch = batch(f);
            try (Transformer model = new Transformer(config, 99, options)) {
                loadParameters(f, model, "param.");
                double loss = model.forward(batch, true, 5);
                double logitsErr = relativeError(f.floats("output.logits"), model.logits().toArray());
                double logProbsErr = relativeError(f.floats("output.log_probs"), model.logProbs().toArray());
                double expectedLoss = f.floats("output.loss")[0];
                double lossErr = Math.abs(loss - expectedLoss) / Math.abs(expectedLoss);
                assertTrue(logitsErr <= 1e-5, name + ": logits differ by " + logitsErr);
                assertTrue(logProbsErr <= 1e-5, name + ": log-probabilities differ by " + logProbsErr);
                assertTrue(lossErr <= 1e-5, name + ": loss " + loss + " vs PyTorch " + expectedLoss);

                model.parameters().zeroGrad();
                model.backward();
                // The key bias's gradient is zero in exact arithmetic (it shifts all of a query's
                // scores evenly, which softmax ignores): PyTorch's is rounding noise near 1e-17, so
                // ours is held to the scale of the largest gradient in the model instead of its own.
                double largest = 0;
                for (Parameter p : model.parameters().list()) {
                    largest = Math.max(largest, maxAbs(f.floats("grad." + p.name())));
                }
                double worst = 0;
                String worstName = "";
                for (Parameter p : model.parameters().list()) {
                    double err = relativeError(f.floats("grad." + p.name()), p.grad().toArray(),
                            p.name().endsWith(".k.bias") ? largest : 0);
                    assertTrue(err <= 1e-4, name + ": gradient of " + p.name() + " differs by " + err);
                    if (err >= worst) {
                        worst = err;
                        worstName = p.name();
                    }
                }
                System.out.printf("PyTorch parity %s, %s attention (%s): loss %.6f vs %.6f, logits rel. err %.2e, log-probs %.2e,"
                                + " worst gradient rel. err %.2e (%s), %d parameter tensors%n", name, fused ? "fused" : "materialized",
                        model.kernels().description(),
                        loss, expectedLoss, logitsErr, logProbsErr, worst, worstName, model.parameters().list().size());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu-learned", "gelu-sinusoidal", "relu-rope", "gelu-rope_cross", "relu-none", "relu-t5", "gelu-alibi", "gelu-t5_cross",
            "gelu-rope_cross-window"})
    void backwardAddsIntoGradients(String name) throws Exception {
        try (SafeTensors f = SafeTensors.open(fixture(name))) {
            TransformerConfig config = TransformerConfig.fromJson(f.metadata().get("config"));
            Batch batch = batch(f);
            try (Transformer model = new Transformer(config, 99)) {
                loadParameters(f, model, "param.");
                model.forward(batch, false, 0);
                model.backward();
                model.forward(batch, false, 0);
                model.backward();
                FloatTensor g = model.parameters().get("generator.weight").grad();
                float[] twice = g.toArray(), once = f.floats("grad.generator.weight");
                for (int i = 0; i < once.length; i++) {
                    once[i] *= 2;
                }
                assertTrue(relativeError(once, twice) <= 1e-4, "two backward passes add up");
            }
        }
    }
}
