package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/** Random inputs, interesting sizes and tolerant comparisons shared by the kernel tests. */
final class TestData {
    /** Single-precision unit roundoff, 2^-24. */
    static final double EPS = 0x1p-24;

    /** The kernels under test: what the provider chose for this JVM (SIMD at some width, or scalar). */
    static final Kernels UNDER_TEST = Kernels.defaults();
    /** The reference: the plain scalar kernels on one thread. */
    static final Kernels SCALAR = Kernels.scalar(1);

    private TestData() {
    }

    /** Lane count in use, or 16 (AVX-512's) for the scalar runs, so that sizes still straddle vector widths. */
    static int lanes() {
        int l = UNDER_TEST.floatLanes();
        return l == 1 ? 16 : l;
    }

    /** 0, 1, small primes, the lane count and its multiples plus or minus 1, and anything up to {@code max}. */
    static Arbitrary<Integer> sizes(int max) {
        int l = lanes();
        Arbitrary<Integer> special = Arbitraries.of(0, 1, 2, 3, 5, 7, 13, 31, l - 1, l, l + 1, 2 * l - 1, 2 * l + 1,
                4 * l - 1, 4 * l, 4 * l + 1, 8 * l + 3).filter(s -> s <= max);
        return Arbitraries.oneOf(special, Arbitraries.integers().between(0, max));
    }

    /**
     * Row lengths 0 to 70, mixed with ones around the lane counts of every species (4, 8, 16):
     * 2L, 3L, 3L + 1 and their neighbours, for the row forms whose main loops take two or four
     * vectors at a time.
     */
    static Arbitrary<Integer> rowLengths() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, 70), Arbitraries.of(3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25, 32, 48, 49));
    }

    static float[] uniform(Random random, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (random.nextFloat() * 2f - 1f) * scale;
        }
        return a;
    }

    static FloatTensor tensor(Arena arena, float[] values) {
        return FloatTensor.of(arena, values, values.length);
    }

    /** Fails unless {@code |actual[i] - expected[i]| <= bound[i]} for every i. */
    static void assertWithin(String what, double[] expected, float[] actual, double[] bound) {
        if (expected.length > actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= bound[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " within " + bound[i]);
            }
        }
    }

    /** Fails unless {@code |actual - expected| <= abs + rel * |expected|} element-wise. */
    static void assertClose(String what, double[] expected, float[] actual, double abs, double rel) {
        double[] bound = new double[expected.length];
        for (int i = 0; i < bound.length; i++) {
            bound[i] = abs + rel * Math.abs(expected[i]);
        }
        assertWithin(what, expected, actual, bound);
    }

    static void assertClose(String what, float[] expected, float[] actual, double abs, double rel) {
        assertClose(what, toDouble(expected), actual, abs, rel);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
