package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TrainerTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED)
            .withDropout(0.1f, 0.1f);

    /** A copy task in miniature: the target repeats the source. */
    static Batch copyBatch(Random r, int b, int len, int bos) {
        int[] src = new int[b * len], in = new int[b * len], out = new int[b * len];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < len; j++) {
                src[i * len + j] = 2 + r.nextInt(7);
            }
            in[i * len] = bos;
            for (int j = 0; j < len; j++) {
                out[i * len + j] = src[i * len + j];
                if (j + 1 < len) {
                    in[i * len + j + 1] = src[i * len + j];
                }
            }
        }
        return new Batch(b, len, len, src, in, out);
    }

    @Test
    void lossFallsOnACopyTask() {
        Random r = new Random(11);
        TransformerConfig config = new TransformerConfig(11, 9, 32, 2, 2, 64, 10, 0.1f, 0.1f, 1e-5f,
                TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED, 0);
        try (Transformer model = new Transformer(config, 3);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(1).withLearningRate(LearningRate.constant(1e-3f)).withClipNorm(1f))) {
            double first = 0, last = 0;
            for (int step = 1; step <= 300; step++) {
                double loss = trainer.step(copyBatch(r, 16, 5, 1));
                if (step <= 10) {
                    first += loss / 10;
                }
                if (step > 290) {
                    last += loss / 10;
                }
            }
            assertEquals(300, trainer.steps());
            System.out.printf("copy in miniature: loss %.3f over the first 10 steps, %.3f over the last 10%n", first, last);
            assertTrue(last < 0.1 * first, "loss fell from " + first + " to " + last);
        }
    }

    /**
     * A step's log-probabilities are the session's: those of the step's own forward pass (the same
     * batch, seed and weights through the model's forward give the same bits), untouched by a
     * model forward of another shape in between.
     */
    @Test
    void aStepsLogProbabilitiesAreTheSessions() {
        Random r = new Random(6);
        Batch batch = copyBatch(r, 3, 4, 1), other = copyBatch(r, 2, 6, 1);
        try (Transformer model = new Transformer(CONFIG, 2);
             Transformer twin = new Transformer(CONFIG, 2);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(9))) {
            assertThrows(IllegalStateException.class, trainer::logProbs);
            trainer.step(batch);
            float[] step = trainer.logProbs().toArray();
            model.forward(other, false, 0);
            assertArrayEquals(step, trainer.logProbs().toArray(), "a model forward leaves the step's buffers alone");
            try (Trainer twinTrainer = new Trainer(twin, Trainer.Options.reference(9))) {
                twinTrainer.step(batch);
                assertArrayEquals(step, twinTrainer.logProbs().toArray(), "the same step gives the same bits");
            }
            assertEquals(3 * 4 * CONFIG.tgtVocabSize(), step.length);
            trainer.close();
            assertEquals(0, trainer.workspaceBytes());
            assertThrows(IllegalStateException.class, trainer::logProbs);
            assertThrows(IllegalStateException.class, () -> trainer.step(batch));
            trainer.close(); // again: nothing
        }
    }

    private static float[] trainAndDump(int threads, long seed) {
        Random r = new Random(4);
        try (Transformer model = new Transformer(CONFIG, seed, Kernels.withThreads(threads));
             Trainer trainer = new Trainer(model, Trainer.Options.reference(seed).withLearningRate(LearningRate.noam(1f, 8, 4)))) {
            for (int i = 0; i < 5; i++) {
                trainer.step(copyBatch(r, 8, 6, 1));
            }
            return model.parameters().get("decoder.layers.1.ffn.fc2.weight").value().toArray();
        }
    }

    @Test
    void theSameSeedGivesTheSameRunForAnyThreadCount() {
        float[] one = trainAndDump(1, 9);
        assertArrayEquals(one, trainAndDump(1, 9));
        assertArrayEquals(one, trainAndDump(2, 9));
        assertArrayEquals(one, trainAndDump(3, 9));
        assertTrue(!java.util.Arrays.equals(one, trainAndDump(1, 10)), "another seed, another run");
    }

    @Test
    void aNonFiniteLossNamesTheStepAndTheTensorAndUpdatesNothing() {
        Random r = new Random(2);
        try (Transformer model = new Transformer(CONFIG, 3); Trainer trainer = new Trainer(model, Trainer.Options.reference(1))) {
            Batch batch = copyBatch(r, 4, 5, 1);
            trainer.step(batch);
            float[] before = model.parameters().get("decoder.layers.0.self_attn.q.weight").value().toArray();
            model.parameters().get("encoder.embed.token.weight").value().set((long) batch.src()[0] * 8, Float.NaN);
            var e = assertThrows(TrainingException.class, () -> trainer.step(batch));
            assertEquals(2, e.step());
            assertTrue(e.getMessage().contains("step 2") && e.getMessage().contains("encoder.embed.tokens"), e.getMessage());
            assertArrayEquals(before, model.parameters().get("decoder.layers.0.self_attn.q.weight").value().toArray());
            assertEquals(1, trainer.steps());
        }
    }

    /**
     * A step stores each weight gradient's product into the zeros it has just written (beta 0),
     * where the model's own backward pass adds into whatever its gradients hold: the same bits. And
     * once the step is over, nothing is taken for zeros any more: a backward pass on the model adds
     * into the step's gradients, as it does into any others.
     */
    @Test
    void aStepStoresTheGradientsTheModelsBackwardAdds() {
        TransformerConfig config = CONFIG.withDropout(0f, 0f);
        Batch batch = copyBatch(new Random(4), 4, 5, 1);
        try (Transformer trained = new Transformer(config, 3); Transformer plain = new Transformer(config, 3);
             Trainer trainer = new Trainer(trained, Trainer.Options.reference(1).withClipNorm(0f))) {
            plain.forward(batch, true, 0);
            plain.backward();
            trainer.step(batch);
            Map<String, float[]> step = new HashMap<>();
            for (Parameter p : plain.parameters().list()) {
                float[] stored = trained.parameters().get(p.name()).grad().toArray();
                assertArrayEquals(p.grad().toArray(), stored, 0f, p.name());
                step.put(p.name(), stored);
            }
            trained.forward(batch, true, 0);
            trained.backward();
            Map<String, float[]> sum = new HashMap<>();
            for (Parameter p : trained.parameters().list()) {
                sum.put(p.name(), p.grad().toArray());
            }
            trained.parameters().zeroGrad();
            trained.forward(batch, true, 0);
            trained.backward();
            for (Parameter p : trained.parameters().list()) {
                float[] alone = p.grad().toArray(), expected = step.get(p.name()).clone();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] += alone[i];
                }
                assertTrue(PyTorchParityTest.relativeError(expected, sum.get(p.name())) <= 1e-6, p.name() + ": a backward pass after a step adds");
            }
        }
    }

    @Test
    void clippingBoundsTheGlobalGradientNorm() {
        Random r = new Random(2);
        try (Transformer model = new Transformer(CONFIG, 3);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(1).withClipNorm(0.01f))) {
            trainer.step(copyBatch(r, 4, 5, 1));
            assertTrue(trainer.lastGradNorm() > 0.01, "the raw norm " + trainer.lastGradNorm() + " was above the bound");
            double sq = 0;
            for (Parameter p : model.parameters().list()) {
                sq += Kernels.defaults().elementwise().sumOfSquares(p.grad(), p.size());
            }
            assertEquals(0.01, Math.sqrt(sq), 1e-5, "gradients were scaled to the bound");
        }
    }

    @Test
    void noamWarmsUpThenDecays() {
        LearningRate noam = LearningRate.noam(2f, 64, 100);
        assertEquals(2 * Math.pow(64, -0.5) * 1 * Math.pow(100, -1.5), noam.at(1), 1e-9);
        assertTrue(noam.at(50) < noam.at(100) && noam.at(100) > noam.at(200));
        assertEquals(2 * Math.pow(64, -0.5) * Math.pow(400, -0.5), noam.at(400), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> LearningRate.noam(1f, 64, 0));
    }
}
