package dev.panamaformer.bench;

import dev.panamaformer.kernels.Kernels;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One core's floating-point peak as the Vector API reaches it, at the kernels' vector width: 12
 * and 16 independent FMA chains, no memory traffic; the peak is the faster of the two. GFLOPS =
 * 2 * lanes * chains * ITERATIONS / time; the denominator of "share of peak" in the GEMM figures.
 *
 * <p>The chains start from distinct values: twelve identical chains ran 13 % slower than distinct
 * ones under {@code -XX:UseAVX=2} (AMD EPYC Zen 5, 95.8 against 109.6 GFLOPS, in a throwaway copy of these loops run one after
 * the other in one JVM, not kept), which made the
 * GEMM's share of peak look better than it was. 12 chains cover two FMA pipes of latency 4 to 6
 * and, with the two operands, fit 16 registers; 16 chains need 32 registers (AVX-512, NEON) and
 * cover longer latencies there.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FmaPeakBenchmark {
    /** The kernels' species (-Dpanamaformer.kernels=128 narrows both); the preferred one where they are scalar. */
    static final VectorSpecies<Float> S = Kernels.defaults().isVectorized()
            ? VectorSpecies.of(float.class, VectorShape.forBitSize(Kernels.defaults().floatLanes() * Float.SIZE))
            : FloatVector.SPECIES_PREFERRED;
    /** FMAs per chain per call. */
    public static final int ITERATIONS = 100_000;

    /** Floats per vector of the peak's species. */
    public static int lanes() {
        return S.length();
    }

    /** 12 chains: enough where the FMA latency times the pipes is at most 12 and 12 + 2 vectors fit the registers. */
    @Benchmark
    public float chains12() {
        return chains12(1f);
    }

    /** 12 independent chains of ITERATIONS FMAs from distinct starts; returns a lane of their sum. */
    public static float chains12(float start) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, start);
        FloatVector c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3), c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7), c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }

    /** 16 chains: enough where the FMA latency times the pipes is at most 16 and 16 + 2 vectors fit the registers. */
    @Benchmark
    public float chains16() {
        return chains16(1f);
    }

    /** 16 independent chains of ITERATIONS FMAs from distinct starts; returns a lane of their sum. */
    public static float chains16(float start) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), a = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, start);
        FloatVector c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3), c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7), c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11), c12 = c0.add(12), c13 = c0.add(13), c14 = c0.add(14), c15 = c0.add(15);
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
            c12 = c12.fma(m, a);
            c13 = c13.fma(m, a);
            c14 = c14.fma(m, a);
            c15 = c15.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).add(c12).add(c13).add(c14).add(c15).lane(0);
    }
}
