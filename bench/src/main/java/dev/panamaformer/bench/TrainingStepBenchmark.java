package dev.panamaformer.bench;

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
    /** The task whose reference step runs: see {@link TaskStep}. */
    @Param({"copy", "addition", "parser"})
    public String task;

    private TaskStep step;

    @Setup(Level.Trial)
    public void setup() {
        step = new TaskStep(task);
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
