package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parameters, gradients and Adam's moments live in flat buffers with a view per parameter; a
 * model used for inference never allocates gradients.
 */
class ParameterLayoutTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);

    @Test
    void aModelLoadedForInferenceHoldsItsParametersAndNothingElse(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Transformer trained = new Transformer(CONFIG, 4)) {
            Checkpoint.save(trained, file);
        }
        try (Transformer model = Checkpoint.load(file)) {
            Parameters params = model.parameters();
            long valueBytes = params.extent() * Float.BYTES;
            assertEquals(valueBytes, model.memoryBytes(), "bytes the model's arena allocated after loading");
            int[][] sources = {{3, 4, 5}, {6, 7}};
            Decoding.greedy(model, sources, 1, 2, 6);
            Decoding.beamSearch(model, sources, 3, 1, 2, 6, 0.6f);
            assertFalse(params.hasGradients());
            assertEquals(valueBytes, model.memoryBytes(), "bytes after decoding: sessions keep their own buffers");

            try (Trainer trainer = new Trainer(model, Trainer.Options.reference(1))) {
                assertTrue(params.hasGradients());
                assertEquals(valueBytes, model.memoryBytes(), "the gradients are the session's");
                assertEquals(3 * valueBytes, trainer.memoryBytes(), "gradients and Adam's two moments");
                trainer.step(TestModels.randomBatch(new Random(2), CONFIG, 2, 4, 3));
                assertTrue(trainer.workspaceBytes() > 0);
                assertEquals(3 * valueBytes + trainer.workspaceBytes(), trainer.memoryBytes());
                assertEquals(valueBytes, model.memoryBytes(), "the step's buffers are the session's, not the model's");
            }
            assertFalse(params.hasGradients(), "closing the session freed its gradients");
            assertEquals(valueBytes, model.memoryBytes(), "a model trained and then served holds its values alone");
        }
    }

    @Test
    void gradientsBelongToTheOpenTrainerOrElseToTheModelsOwnBackward() {
        Random r = new Random(5);
        Batch batch = TestModels.randomBatch(r, CONFIG, 2, 4, 3);
        try (Transformer model = new Transformer(CONFIG, 4)) {
            Parameters params = model.parameters();
            long valueBytes = params.extent() * Float.BYTES;
            Parameter p = params.get("generator.weight");
            // the model's own backward: gradients of the model's, as PyTorch's .grad
            model.forward(batch, false, 0);
            model.backward();
            float[] own = p.grad().toArray();
            assertTrue(params.hasGradients());
            assertEquals(2 * valueBytes + model.workspaceBytes(), model.memoryBytes(), "values, own gradients, forward's buffers");

            try (Trainer trainer = new Trainer(model, Trainer.Options.reference(1).withLearningRate(LearningRate.constant(0f)))) {
                assertEquals(valueBytes + model.workspaceBytes(), model.memoryBytes(), "the trainer took over: the model's own were freed");
                assertArrayEquals(new float[own.length], p.grad().toArray(), "the session's gradients start at zero");
                var second = assertThrows(IllegalStateException.class, () -> new Trainer(model, Trainer.Options.reference(2)));
                assertTrue(second.getMessage().contains("another Trainer"), second.getMessage());
                trainer.step(batch);
                // without dropout in this config, a step of lr 0 gives the gradients of the same forward
                assertArrayEquals(own, p.grad().toArray(), "the step's gradients, through the same views");
            }
            assertFalse(params.hasGradients());
            try (Trainer again = new Trainer(model, Trainer.Options.reference(3))) {
                assertTrue(params.hasGradients(), "a new session after the first was closed");
            }
            model.backward();
            assertArrayEquals(own, p.grad().toArray(), "the model's own gradients again, after the sessions");
        }
    }

    @Test
    void closingTheModelOrTheTrainerInEitherOrderLeavesNothingUsable() {
        Batch batch = TestModels.randomBatch(new Random(6), CONFIG, 2, 4, 3);
        Transformer model = new Transformer(CONFIG, 4);
        Parameter p = model.parameters().get("generator.weight");
        Parameters params = model.parameters();
        Trainer trainer = new Trainer(model, Trainer.Options.reference(1));
        trainer.step(batch);
        model.close();
        var step = assertThrows(IllegalStateException.class, () -> trainer.step(batch));
        assertTrue(step.getMessage().contains("closed"), step.getMessage());
        trainer.close();
        trainer.close(); // again: nothing
        assertEquals(0, trainer.memoryBytes(), "a closed session holds nothing");
        // no gradients are made for a closed model (they would never be freed)
        var grad = assertThrows(IllegalStateException.class, p::grad);
        assertTrue(grad.getMessage().contains("the model is closed"), grad.getMessage());
        assertThrows(IllegalStateException.class, params::zeroGrad);
        assertThrows(IllegalStateException.class, () -> new Trainer(model, Trainer.Options.reference(1)));
    }

    @Test
    void parametersAreAlignedViewsOfOneBufferAndItsPaddingStaysZero() {
        try (Transformer model = new Transformer(CONFIG, 4);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(1).withWeightDecay(0.1f, true).withClipNorm(0.5f))) {
            Parameters params = model.parameters();
            Random r = new Random(3);
            for (int i = 0; i < 3; i++) {
                trainer.step(TestModels.randomBatch(r, CONFIG, 2, 4, 3));
            }
            FloatTensor values = params.values(), grads = params.gradients();
            assertEquals(params.extent(), values.size());
            boolean[] covered = new boolean[(int) params.extent()];
            long count = 0;
            for (Parameter p : params.list()) {
                assertEquals(0, p.offset() % 16, p.name() + " starts on a 64-byte boundary");
                assertEquals(values.segment().address() + p.offset() * Float.BYTES, p.value().segment().address(), p.name());
                assertEquals(grads.segment().address() + p.offset() * Float.BYTES, p.grad().segment().address(), p.name());
                for (long j = p.offset(); j < p.offset() + p.size(); j++) {
                    assertFalse(covered[(int) j], p.name() + " overlaps another parameter");
                    covered[(int) j] = true;
                }
                count += p.size();
            }
            assertEquals(params.count(), count);
            assertTrue(params.extent() - params.count() < 16L * params.size(), "padding below 16 floats per parameter");
            float[] v = values.toArray(), g = grads.toArray();
            for (int j = 0; j < covered.length; j++) {
                if (!covered[j]) {
                    assertEquals(0f, v[j], "padding value at " + j);
                    assertEquals(0f, g[j], "padding gradient at " + j);
                }
            }
        }
    }

    /**
     * Without clipping, one Adam call over the flat buffers gives exactly the update of one call
     * per parameter (the kernels are element-wise), from the same gradients.
     */
    @Test
    void oneFlatUpdateEqualsAnUpdatePerParameter() {
        Kernels kernels = Kernels.defaults();
        Trainer.Options options = Trainer.Options.reference(1).withWeightDecay(0.01f, false);
        Random r = new Random(9);
        Batch[] batches = {TestModels.randomBatch(r, CONFIG, 3, 5, 4), TestModels.randomBatch(r, CONFIG, 3, 5, 4)};
        try (Transformer flat = new Transformer(CONFIG, 6); Trainer trainer = new Trainer(flat, options);
             Transformer each = new Transformer(CONFIG, 6); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            List<Parameter> params = each.parameters().list();
            FloatTensor[] m = new FloatTensor[params.size()], v = new FloatTensor[params.size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = FloatTensor.allocate(arena, params.get(i).shape());
                v[i] = FloatTensor.allocate(arena, params.get(i).shape());
            }
            for (int step = 1; step <= batches.length; step++) {
                double loss = trainer.step(batches[step - 1]);
                each.parameters().zeroGrad();
                assertEquals(loss, each.forward(batches[step - 1], true, 0), "loss of step " + step);
                each.backward();
                for (int i = 0; i < m.length; i++) {
                    Parameter p = params.get(i);
                    kernels.adam().update(p.value(), p.grad(), m[i], v[i], p.size(), step, options.learningRate().at(step),
                            options.beta1(), options.beta2(), options.eps(), options.weightDecay(), options.decoupled());
                }
            }
            for (Parameter p : params) {
                assertArrayEquals(p.value().toArray(), flat.parameters().get(p.name()).value().toArray(), p.name());
            }
        }
    }
}
