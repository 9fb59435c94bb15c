package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.foreign.Arena;
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
 * The SIMD GEMM at the shapes and transposed forms of a Transformer's linear layers (see
 * {@link GemmCase}), on 1 and 2 threads. Time per product; GFLOPS = 2·M·N·K / time. Its
 * counterpart on BLAS, at the same shapes and forms, is {@link BlasGemmBenchmark}: run both in
 * one JMH run to compare them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// C2 compiles the micro-kernel within 2-4 s of small products (interpreted, a Vector API
// loop is ~100x slower); four warm-up seconds reached the steady state in our trials.
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmShapesBenchmark {
    @Param({"800x64x64", "800x64x128", "800x128x64", "896x256x256", "896x256x512", "1024x1024x1024"})
    public String shape;

    @Param({"NN", "NT", "TN"})
    public String form;

    @Param({"1", "2"})
    public int threads;

    private GemmCase gemm;
    private Arena arena;
    private FloatTensor a, b, c;
    private Kernels kernels;

    @Setup(Level.Trial)
    public void setup() {
        gemm = GemmCase.of(shape, form);
        arena = Arena.ofShared(); // a shared arena's tensors may be split across threads
        a = FloatTensor.of(arena, gemm.randomA(), gemm.m() * gemm.k());
        b = FloatTensor.of(arena, gemm.randomB(), gemm.k() * gemm.n());
        c = FloatTensor.allocate(arena, gemm.m() * gemm.n());
        kernels = Kernels.simd(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public FloatTensor gemmSimd() {
        kernels.matmul().gemm(gemm.transA(), gemm.transB(), gemm.m(), gemm.n(), gemm.k(), 1f,
                a, 0, gemm.lda(), b, 0, gemm.ldb(), 0f, c, 0, gemm.n());
        return c;
    }
}
