package dev.panamaformer.bench;

import dev.panamaformer.model.Batch;
import dev.panamaformer.model.Trainer;
import dev.panamaformer.model.Transformer;
import dev.panamaformer.model.TransformerConfig;
import java.util.Random;

/**
 * One task's training step at its reference config and batch shape (TASKS.md), with a fixed
 * random batch: what {@link TrainingStepBenchmark} times and {@link StepAllocations} counts.
 * copy: vocab 20, d 64, 2 layers, 2 heads, d_ff 128, B 40, lengths 20; addition: 11, 256, 3, 4,
 * 512, B 128, S 7, T 3; parser: 25, 128, 3, 4, 512, B 64, S 5, T 5. And "odd", no task's: 37,
 * 100, 2, 4 (heads of 25), 200, B 24, S 13, T 11, every size off the vector lengths, so that
 * every kernel's remainder loops and scalar tails run beside its main loops, as in a user's model
 * (a vector loop that is rare when C2 compiles its method can be left unintrinsified and box).
 */
final class TaskStep implements AutoCloseable {
    final Transformer model;
    final Trainer trainer;
    final Batch batch;

    TaskStep(String task) {
        this(task, TransformerConfig.Positions.LEARNED);
    }

    /** The task's step with another position type (its reference config otherwise). */
    TaskStep(String task, TransformerConfig.Positions positions) {
        TransformerConfig config;
        int b, s, t;
        switch (task) {
            case "copy" -> {
                config = TransformerConfig.of(20, 64, 2, 2, 128, 20);
                b = 40;
                s = 20;
                t = 20;
            }
            case "addition" -> {
                config = TransformerConfig.of(11, 256, 3, 4, 512, 10);
                b = 128;
                s = 7;
                t = 3;
            }
            case "parser" -> {
                config = TransformerConfig.of(25, 128, 3, 4, 512, 10);
                b = 64;
                s = 5;
                t = 5;
            }
            case "odd" -> {
                config = TransformerConfig.of(37, 100, 2, 4, 200, 16);
                b = 24;
                s = 13;
                t = 11;
            }
            default -> throw new IllegalArgumentException("unknown task " + task + "; one of copy, addition, parser, odd");
        }
        config = config.withPositions(positions);
        Random r = new Random(1);
        int[] src = new int[b * s], in = new int[b * t], out = new int[b * t];
        for (int i = 0; i < src.length; i++) {
            src[i] = 1 + r.nextInt(config.srcVocabSize() - 1);
        }
        for (int i = 0; i < in.length; i++) {
            in[i] = 1 + r.nextInt(config.tgtVocabSize() - 1);
            out[i] = 1 + r.nextInt(config.tgtVocabSize() - 1);
        }
        batch = new Batch(b, s, t, src, in, out);
        model = new Transformer(config, 1);
        trainer = new Trainer(model, Trainer.Options.reference(1));
    }

    double step() {
        return trainer.step(batch);
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
