package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Writes a checkpoint of a briefly trained model and the logits it gives on fixed inputs into
 * target/pytorch-check/, for the other direction of the PyTorch comparison:
 * {@code src/test/python/torch_reference.py check target/pytorch-check/model.safetensors
 * target/pytorch-check/inputs.safetensors} loads the checkpoint into PyTorch and compares.
 */
class CheckpointForPyTorchTest {

    @Test
    void writeACheckpointAndItsLogits() throws Exception {
        TransformerConfig config = new TransformerConfig(12, 10, 16, 2, 4, 32, 9, 0.1f, 0.1f, 1e-5f,
                TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED, 0);
        Path dir = Path.of("target", "pytorch-check");
        Random r = new Random(17);
        try (Transformer model = new Transformer(config, 21); Trainer trainer = new Trainer(model, Trainer.Options.reference(3)
                .withLearningRate(LearningRate.constant(1e-2f)))) {
            for (int i = 0; i < 20; i++) {
                trainer.step(TestModels.randomBatch(r, config, 4, 7, 6)); // moves every weight off its initial value
            }
            Batch batch = TestModels.randomBatch(r, config, 3, 7, 6);
            model.forward(batch, false, 0);
            Checkpoint.save(model, dir.resolve("model.safetensors"));
            new SafeTensors.Writer()
                    .ints("input.src", batch.src(), 3, 7)
                    .ints("input.tgt_in", batch.tgtIn(), 3, 6)
                    .floats("output.logits", model.logits().toArray(), 3, 6, config.tgtVocabSize())
                    .write(dir.resolve("inputs.safetensors"));
        }
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 4 * 1000);
    }
}
