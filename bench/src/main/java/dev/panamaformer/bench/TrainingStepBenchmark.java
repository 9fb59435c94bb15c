package dev.panamaformer.bench;

import dev.panamaformer.model.TransformerConfig;
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
 * <p>Each trial begins with {@link #WARM_STEPS} steps in its setup, then JMH's three warm-up
 * iterations: the JIT warms up by calls, JMH by time, and on a slow CPU time-based warm-up was
 * not enough. At 0.6 to 0.8 s per addition step (AMD EPYC Zen 1, AVX2, 2026-12-02), six 3-second
 * warm-up iterations were about 25 steps, and every measured iteration still ran code C2 had not
 * compiled: 198 KB allocated per step (boxed vectors) and 832 ms per step, where
 * {@code bench/run --main StepAllocations addition 120 30} measured 0.0 bytes and 571 ms per step
 * after 120 steps. On AVX-512 (Zen 5) the same had shown as 130 to 275 KB per step in the first
 * measured iterations under {@code -XX:UseAVX=2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainingStepBenchmark {
    /** The task whose reference step runs: see {@link TaskStep}. */
    @Param({"copy", "addition", "parser"})
    public String task;

    /** The position type (learned, the reference; sinusoidal; rope, rope_cross, t5, alibi, none): {@code -p positions=learned,t5} compares them. */
    @Param({"learned"})
    public String positions;

    /** Steps run before JMH's warm-up, enough for C2 to compile the step on any CPU (see above). */
    static final int WARM_STEPS = 150;

    private TaskStep step;

    @Setup(Level.Trial)
    public void setup() {
        step = new TaskStep(task, TransformerConfig.Positions.valueOf(positions.toUpperCase(java.util.Locale.ROOT)));
        for (int i = 0; i < WARM_STEPS; i++) {
            step.step();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        step.close();
    }

    @Benchmark
    public double trainingStep() {
        return step.step();
    }
}
