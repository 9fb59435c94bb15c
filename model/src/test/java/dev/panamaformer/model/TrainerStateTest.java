package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run saved after some steps and resumed in a new model and trainer goes on exactly as the run that never stopped. */
class TrainerStateTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED)
            .withDropout(0.1f, 0.1f);

    private static Trainer.Options options() {
        return Trainer.Options.reference(7).withLearningRate(LearningRate.noam(1f, CONFIG.hiddenSize(), 4)).withClipNorm(1f)
                .withWeightDecay(0.01f, true);
    }

    @Test
    void aResumedRunContinuesBitForBit(@TempDir Path dir) throws IOException {
        Random r = new Random(5);
        Batch[] batches = new Batch[6];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = TestModels.randomBatch(r, CONFIG, 3, 5, 4);
        }
        Path weights = dir.resolve("model.safetensors"), state = dir.resolve("adam.safetensors");
        try (Transformer model = new Transformer(CONFIG, 3); Trainer trainer = new Trainer(model, options())) {
            for (int i = 0; i < 3; i++) {
                trainer.step(batches[i]);
            }
            Checkpoint.save(model, weights);
            trainer.saveState(state);
            try (Transformer resumedModel = Checkpoint.load(weights); Trainer resumed = new Trainer(resumedModel, options())) {
                resumed.loadState(state);
                assertEquals(3, resumed.steps());
                for (int i = 3; i < batches.length; i++) {
                    assertEquals(trainer.step(batches[i]), resumed.step(batches[i]), "loss of step " + (i + 1));
                    assertEquals(trainer.lastLearningRate(), resumed.lastLearningRate());
                }
                for (Parameter p : model.parameters().list()) {
                    assertArrayEquals(p.value().toArray(), resumedModel.parameters().get(p.name()).value().toArray(), p.name());
                }
            }
        }
    }

    @Test
    void aStateThatDoesNotFitIsRefusedAndChangesNothing(@TempDir Path dir) throws IOException {
        Path weights = dir.resolve("model.safetensors"), state = dir.resolve("adam.safetensors"), other = dir.resolve("other.safetensors");
        Batch batch = TestModels.randomBatch(new Random(1), CONFIG, 2, 4, 3);
        try (Transformer model = new Transformer(CONFIG, 3); Trainer trainer = new Trainer(model, options())) {
            trainer.step(batch);
            Checkpoint.save(model, weights);
            trainer.saveState(state);
            TransformerConfig wider = CONFIG.withVocab(CONFIG.srcVocabSize() + 1, CONFIG.tgtVocabSize(), CONFIG.padId());
            try (Transformer otherModel = new Transformer(wider, 3); Trainer otherTrainer = new Trainer(otherModel, options())) {
                otherTrainer.step(TestModels.randomBatch(new Random(1), wider, 2, 4, 3));
                otherTrainer.saveState(other);
            }
            try (Transformer fresh = new Transformer(CONFIG, 4); Trainer t = new Trainer(fresh, options())) {
                var e = assertThrows(CheckpointException.class, () -> t.loadState(other));
                assertTrue(e.getMessage().contains("another model"), e.getMessage());
                e = assertThrows(CheckpointException.class, () -> t.loadState(weights));
                assertTrue(e.getMessage().contains("not a Panamaformer optimizer state"), e.getMessage());
                e = assertThrows(CheckpointException.class, () -> t.loadState(dir.resolve("missing.safetensors")));
                assertTrue(e.getMessage().contains("no optimizer state"), e.getMessage());
                byte[] bytes = Files.readAllBytes(state);
                Files.write(dir.resolve("cut.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 7));
                assertThrows(CheckpointException.class, () -> t.loadState(dir.resolve("cut.safetensors")));
                assertEquals(0, t.steps(), "a refused state changes nothing");
                t.step(batch); // and the trainer still trains from where it was
                assertEquals(1, t.steps());
            }
        }
    }
}
