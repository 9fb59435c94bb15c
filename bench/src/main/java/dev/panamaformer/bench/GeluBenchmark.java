package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** GELU (tanh form) over 1M values, one thread, scalar against SIMD. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GeluBenchmark {
    static final int N = 1 << 20;

    private Arena arena;
    private FloatTensor x, y;
    private Kernels scalar, simd;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        Random r = new Random(7);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = (float) (3 * r.nextGaussian());
        }
        x = FloatTensor.of(arena, v);
        y = FloatTensor.allocate(arena, N);
        scalar = Kernels.scalar(1);
        simd = Kernels.simd(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public FloatTensor geluScalar() {
        scalar.activations().gelu(x, y, N);
        return y;
    }

    @Benchmark
    public FloatTensor geluSimd() {
        simd.activations().gelu(x, y, N);
        return y;
    }
}
