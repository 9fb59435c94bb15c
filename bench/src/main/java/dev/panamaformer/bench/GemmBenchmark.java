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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * C = A·B on square (size, size) matrices, one thread: the scalar reference against the SIMD
 * kernel, with identical bodies. Time per product; GFLOPS = 2·size³ / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    @Param({"256"})
    public int size;

    private Arena arena;
    private FloatTensor a, b, c;
    private Kernels scalar, simd;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        Random random = new Random(42);
        a = random(arena, random, size);
        b = random(arena, random, size);
        c = FloatTensor.allocate(arena, size, size);
        scalar = Kernels.scalar(1);
        simd = Kernels.simd(1);
    }

    private static FloatTensor random(Arena arena, Random random, int n) {
        float[] v = new float[n * n];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextFloat() * 2f - 1f;
        }
        return FloatTensor.of(arena, v, n, n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public FloatTensor gemmScalar() {
        scalar.matmul().gemm(false, false, size, size, size, 1f, a, b, 0f, c);
        return c;
    }

    @Benchmark
    public FloatTensor gemmSimd() {
        simd.matmul().gemm(false, false, size, size, size, 1f, a, b, 0f, c);
        return c;
    }
}
