package dev.panamaformer.bench;

import dev.panamaformer.model.Batch;
import dev.panamaformer.model.Trainer;
import dev.panamaformer.model.Transformer;
import dev.panamaformer.model.TransformerConfig;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step (forward, backward, Adam) at each task's reference config and batch shape
 * (TASKS.md): time per step, and with {@code -prof gc} the bytes allocated per step.
 *
 * <p>Six warm-up iterations: under {@code -XX:UseAVX=2} the addition step still allocated 130 to
 * 275 KB per step (vectors boxed in code the JIT had not yet compiled with C2) in the first one or
 * two measured iterations after three (AMD EPYC Zen 5, {@code bench/report --isa avx2}), then 4.3 KB (1.6 KB once {@code Elementwise} stopped
 * allocating per reduction).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 6, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainingStepBenchmark {
    /** copy: vocab 20, d 64, 2 layers, 2 heads, d_ff 128, B 40, lengths 20; addition: 11, 256, 3, 4, 512, B 128, S 7, T 3; parser: 25, 128, 3, 4, 512, B 64, S 5, T 5. */
    @Param({"copy", "addition", "parser"})
    public String task;

    private Transformer model;
    private Trainer trainer;
    private Batch batch;

    @Setup(Level.Trial)
    public void setup() {
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
            default -> throw new IllegalArgumentException("unknown task " + task);
        }
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

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        model.close();
    }

    @Benchmark
    public double trainingStep() {
        return trainer.step(batch);
    }
}
