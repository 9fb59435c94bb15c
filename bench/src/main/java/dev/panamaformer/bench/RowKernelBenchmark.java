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
 * Softmax and LayerNorm over 256 rows of {@code cols} columns, one thread, scalar against SIMD
 * with identical bodies; {@code cols} covers the attention rows (7, 20), the widths of the
 * models (64, 128, 256) and long rows (1024, 4096).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RowKernelBenchmark {
    static final int ROWS = 256;

    @Param({"7", "20", "64", "128", "256", "1024", "4096"})
    public int cols;

    private Arena arena;
    private FloatTensor x, y, gamma, beta, mean, rstd;
    private Kernels scalar, simd;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        Random r = new Random(7);
        float[] v = new float[ROWS * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        x = FloatTensor.of(arena, v, ROWS, cols);
        y = FloatTensor.allocate(arena, ROWS, cols);
        gamma = FloatTensor.allocate(arena, cols);
        gamma.fill(1f);
        beta = FloatTensor.allocate(arena, cols);
        mean = FloatTensor.allocate(arena, ROWS);
        rstd = FloatTensor.allocate(arena, ROWS);
        scalar = Kernels.scalar(1);
        simd = Kernels.simd(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public FloatTensor softmaxScalar() {
        scalar.softmax().forward(x, y, ROWS, cols);
        return y;
    }

    @Benchmark
    public FloatTensor softmaxSimd() {
        simd.softmax().forward(x, y, ROWS, cols);
        return y;
    }

    @Benchmark
    public FloatTensor layerNormScalar() {
        scalar.layerNorm().forward(x, gamma, beta, y, mean, rstd, ROWS, cols, 1e-5f);
        return y;
    }

    @Benchmark
    public FloatTensor layerNormSimd() {
        simd.layerNorm().forward(x, gamma, beta, y, mean, rstd, ROWS, cols, 1e-5f);
        return y;
    }
}
