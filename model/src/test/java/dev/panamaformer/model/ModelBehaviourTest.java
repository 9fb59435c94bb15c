package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class ModelBehaviourTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);

    @Test
    void theSameSeedGivesTheSameParameters() {
        try (Transformer a = new Transformer(CONFIG, 7); Transformer b = new Transformer(CONFIG, 7); Transformer c = new Transformer(CONFIG, 8)) {
            for (Parameter p : a.parameters().list()) {
                assertArrayEquals(p.value().toArray(), b.parameters().get(p.name()).value().toArray(), p.name());
            }
            assertNotEquals(a.parameters().get("generator.weight").value().get(0), c.parameters().get("generator.weight").value().get(0));
            // Xavier bound for generator (9, 8): sqrt(6 / 17)
            float bound = (float) Math.sqrt(6.0 / 17);
            for (float v : a.parameters().get("generator.weight").value().toArray()) {
                assertTrue(Math.abs(v) <= bound, "Xavier uniform within +-" + bound + ": " + v);
            }
            assertArrayEquals(new float[9], a.parameters().get("generator.bias").value().toArray(), 0f, "zero biases");
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, a.parameters().get("encoder.norm.weight").value().toArray(), 0f);
        }
    }

    @Test
    void aBatchOfInputsAloneGivesTheLogProbabilitiesAndNoLoss() {
        Batch withTargets = TestModels.randomBatch(new Random(4), CONFIG, 3, 5, 4);
        Batch inputs = Batch.inputs(3, 5, 4, withTargets.src(), withTargets.tgtIn(), null, null);
        assertTrue(withTargets.hasTargets());
        assertTrue(!inputs.hasTargets());
        var missing = assertThrows(IllegalArgumentException.class, () -> new Batch(3, 5, 4, withTargets.src(), withTargets.tgtIn(), null));
        assertTrue(missing.getMessage().contains("Batch.inputs"), missing.getMessage());
        try (Transformer model = new Transformer(CONFIG, 7)) {
            assertTrue(Double.isFinite(model.forward(withTargets, false, 0)));
            float[] expected = model.logProbs().toArray();
            assertTrue(Double.isNaN(model.forward(inputs, false, 0)), "no targets, no loss");
            assertArrayEquals(expected, model.logProbs().toArray(), 0f, "the same log-probabilities, bit for bit");
            var backward = assertThrows(IllegalStateException.class, model::backward);
            assertTrue(backward.getMessage().contains("targets"), backward.getMessage());
            try (Trainer trainer = new Trainer(model, Trainer.Options.reference(1))) {
                var step = assertThrows(IllegalArgumentException.class, () -> trainer.step(inputs));
                assertTrue(step.getMessage().contains("targets"), step.getMessage());
                assertEquals(0, trainer.steps());
            }
        }
    }

    @Test
    void attentionProbabilitiesAreReadableAndMasked() {
        Random r = new Random(3);
        Batch batch = TestModels.randomBatch(r, CONFIG, 3, 5, 4);
        try (Transformer model = new Transformer(CONFIG, 1)) {
            model.forward(batch, false, 0);
            int h = CONFIG.numHeads();
            for (int layer = 0; layer < CONFIG.numLayers(); layer++) {
                FloatTensor enc = model.attention(Transformer.Attention.ENCODER_SELF, layer);
                FloatTensor dec = model.attention(Transformer.Attention.DECODER_SELF, layer);
                FloatTensor cross = model.attention(Transformer.Attention.CROSS, layer);
                assertArrayEquals(new int[] {3, h, 5, 5}, enc.shape());
                assertArrayEquals(new int[] {3, h, 4, 4}, dec.shape());
                assertArrayEquals(new int[] {3, h, 4, 5}, cross.shape());
                for (int b = 0; b < 3; b++) {
                    for (int head = 0; head < h; head++) {
                        for (int q = 0; q < 5; q++) {
                            double sum = 0;
                            for (int k = 0; k < 5; k++) {
                                float p = enc.get((((long) b * h + head) * 5 + q) * 5 + k);
                                sum += p;
                                if (batch.src()[b * 5 + k] == TestModels.PAD) {
                                    assertEquals(0f, p, "padded source key gets no attention");
                                }
                            }
                            assertEquals(1.0, sum, 1e-5);
                        }
                        for (int q = 0; q < 4; q++) {
                            for (int k = q + 1; k < 4; k++) {
                                assertEquals(0f, dec.get((((long) b * h + head) * 4 + q) * 4 + k), "no attention to the future");
                            }
                        }
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> model.attention(Transformer.Attention.CROSS, 2));
        }
    }

    @Test
    void badBatchesAreRefusedNamingWhatIsWrong() {
        try (Transformer model = new Transformer(CONFIG, 1)) {
            int[] ok = {1, 2, 3};
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(new Batch(1, 3, 3, new int[] {1, 11, 2}, ok, ok), true, 0));
            assertTrue(e.getMessage().contains("src token id 11 at (0, 1)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(new Batch(1, 3, 3, ok, ok, new int[] {1, -1, 2}), true, 0));
            assertTrue(e.getMessage().contains("tgtOut token id -1"), e.getMessage());
            int[] long11 = new int[11];
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(new Batch(1, 11, 3, long11, ok, ok), true, 0));
            assertTrue(e.getMessage().contains("exceed the 10 positions"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Batch(2, 3, 3, ok, ok, ok));
            assertTrue(e.getMessage().contains("src needs 6 ids"), e.getMessage());
            assertThrows(IllegalStateException.class, model::backward);
        }
        Transformer closed = new Transformer(CONFIG, 1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.forward(TestModels.randomBatch(new Random(1), CONFIG, 1, 2, 2), false, 0));
    }

    /**
     * The "Other" line of the JVM's Native Memory Tracking, where memory of Arenas is tagged:
     * {kilobytes, allocations}. The model module's tests run with -XX:NativeMemoryTracking=summary.
     */
    private static long[] nativeOther() throws Exception {
        String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
        Matcher m = Pattern.compile("\\(malloc=(\\d+)KB tag=Other #(\\d+)").matcher(summary);
        assertTrue(m.find(), "Native Memory Tracking is off; run with -XX:NativeMemoryTracking=summary:\n" + summary);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    /** Off-heap memory comes back when a model closes, measured by the JVM's Native Memory Tracking. */
    @Test
    void createTrainCloseCyclesLeaveNativeMemoryWhereItWas() throws Exception {
        Batch batch = TestModels.randomBatch(new Random(5), CONFIG, 2, 4, 3);
        try (Transformer warm = new Transformer(CONFIG, 0); Trainer trainer = new Trainer(warm, Trainer.Options.reference(0))) {
            trainer.step(batch); // first use creates the shared kernels and their workspaces, which stay
        }
        long[] before = nativeOther();
        long[] peak = before;
        for (int i = 0; i < 1000; i++) {
            try (Transformer model = new Transformer(CONFIG, i); Trainer trainer = new Trainer(model, Trainer.Options.reference(i))) {
                trainer.step(batch);
                if (i == 0) {
                    peak = nativeOther();
                }
            }
        }
        long[] after = nativeOther();
        assertTrue(peak[1] > before[1], "a live model holds native allocations: " + peak[1] + " vs " + before[1]);
        // not equal: earlier tests leave automatic arenas (the shared kernels' grown scratch) that
        // the collector may free during the cycles; a leak would add 1000 allocations
        assertTrue(after[0] <= before[0], "native KB after 1000 create/train-step/close cycles: " + after[0] + " > " + before[0]);
        assertTrue(after[1] <= before[1],
                "native allocations after 1000 create/train-step/close cycles: " + after[1] + " > " + before[1]);
    }
}
