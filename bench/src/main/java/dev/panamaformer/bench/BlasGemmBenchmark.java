package dev.panamaformer.bench;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The products of {@link GemmShapesBenchmark} (same shapes, forms and data) through
 * dev.ludovic.netlib, the BLAS Apache Spark uses, on one thread: its pure-Java implementation
 * ({@code sgemmJava}; on JDK 16+ with the vector module that is its VectorBLAS) and its JNI
 * binding to OpenBLAS ({@code sgemmOpenBlas}, see {@link OpenBlas}), with identical bodies.
 * Time per product; GFLOPS = 2·M·N·K / time.
 *
 * <p>BLAS is column-major: a row-major (r, c) matrix is, to it, the column-major (c, r) matrix
 * of its transpose. So the row-major C = op(A)·op(B) is computed as the column-major
 * Cᵀ = op(B)ᵀ·op(A)ᵀ: B's buffer first, then A's, with m and n swapped and each operand's
 * transpose flag kept. Each trial's setup checks the result against Panamaformer's SIMD GEMM
 * and throws if they differ by more than rounding.
 *
 * <p>Where OpenBLAS cannot run (library missing, native access not enabled), the OpenBLAS
 * benchmarks fail their setup with one line naming the fix; the others still run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// four warm-up seconds, as GemmShapesBenchmark: netlib's Java sgemm needs C2 as much as ours
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-D" + OpenBlas.LIBRARY_PROPERTY + "=libopenblas.so.0"})
public class BlasGemmBenchmark {

    /** The matrices of one (shape, form), and Panamaformer's product of them as the expected result. */
    @State(Scope.Benchmark)
    public static class Operands {
        @Param({"800x64x64", "800x64x128", "800x128x64", "896x256x256", "896x256x512", "1024x1024x1024"})
        public String shape;

        @Param({"NN", "NT", "TN"})
        public String form;

        GemmCase gemm;
        float[] a, b, c, expected;

        @Setup(Level.Trial)
        public void setup() {
            gemm = GemmCase.of(shape, form);
            a = gemm.randomA();
            b = gemm.randomB();
            c = new float[gemm.m() * gemm.n()];
            try (Arena arena = Arena.ofConfined()) {
                FloatTensor ta = FloatTensor.of(arena, a), tb = FloatTensor.of(arena, b);
                FloatTensor tc = FloatTensor.allocate(arena, c.length);
                Kernels.simd(1).matmul().gemm(gemm.transA(), gemm.transB(), gemm.m(), gemm.n(), gemm.k(), 1f,
                        ta, 0, gemm.lda(), tb, 0, gemm.ldb(), 0f, tc, 0, gemm.n());
                expected = tc.toArray();
            }
        }

        /** Row-major C = op(A)·op(B), as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ. */
        float[] multiply(BLAS blas) {
            blas.sgemm(gemm.transB() ? "T" : "N", gemm.transA() ? "T" : "N", gemm.n(), gemm.m(), gemm.k(), 1f,
                    b, gemm.ldb(), a, gemm.lda(), 0f, c, gemm.n());
            return c;
        }

        /** Multiplies once and throws unless the result is Panamaformer's up to rounding. */
        void check(BLAS blas) {
            float[] actual = multiply(blas);
            // Entries of A and B lie in [-1, 1): each of the k terms errs by at most one rounding
            // of a value under 1 in either summation order; k·2⁻²⁰ leaves room for both.
            double tolerance = gemm.k() * 0x1p-20;
            for (int i = 0; i < actual.length; i++) {
                if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
                    throw new IllegalStateException(blas.getClass().getSimpleName() + " and Panamaformer disagree at "
                            + shape + " " + form + ", C[" + i / gemm.n() + ", " + i % gemm.n() + "]: " + actual[i]
                            + " vs " + expected[i] + " (tolerance " + tolerance + ")");
                }
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Java {
        BLAS blas;

        @Setup(Level.Trial)
        public void setup(Operands operands) {
            blas = JavaBLAS.getInstance();
            System.out.println("netlib Java BLAS: " + blas.getClass().getName());
            operands.check(blas);
        }
    }

    @State(Scope.Benchmark)
    public static class Native {
        BLAS blas;

        @Setup(Level.Trial)
        public void setup(Operands operands) {
            blas = OpenBlas.load();
            operands.check(blas);
        }
    }

    @Benchmark
    public float[] sgemmJava(Operands operands, Java implementation) {
        return operands.multiply(implementation.blas);
    }

    @Benchmark
    public float[] sgemmOpenBlas(Operands operands, Native implementation) {
        return operands.multiply(implementation.blas);
    }
}
