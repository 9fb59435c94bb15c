package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.UNDER_TEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class DropoutPropertiesTest {

    @Provide
    Arbitrary<Float> probabilities() {
        return Arbitraries.of(0f, 0.1f, 0.5f, 0.9f, 0.999f);
    }

    @Provide
    Arbitrary<Integer> rowLengths() {
        return TestData.rowLengths();
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return TestData.sizes(500);
    }

    private static float[] forward(Kernels k, float[] x, float p, long seed) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor y = FloatTensor.allocate(arena, x.length);
            k.dropout().forward(TestData.tensor(arena, x), y, x.length, p, seed);
            return y.toArray();
        }
    }

    @Property
    void keepsExactlyTheElementsOfTheStreamAndScalesThem(@ForAll("sizes") int n, @ForAll("probabilities") float p, @ForAll long seed) {
        float[] x = TestData.uniform(new Random(seed), n, 3f);
        float[] y = forward(UNDER_TEST, x, p, seed);
        for (int i = 0; i < n; i++) {
            float expected = Dropout.kept(seed, p, i) ? x[i] * (1f / (1f - p)) : 0f;
            assertEquals(expected, y[i], "element " + i);
        }
        assertArrayEquals(forward(TestData.SCALAR, x, p, seed), y, "SIMD and scalar drop the same elements");
    }

    /**
     * Dropout of a row that lies elsewhere (fused attention's scores): element {@code index + j}'s
     * mask on the row's element j, SIMD and scalar alike, nothing outside the row touched.
     */
    @Property
    void aRowAtAnyOffsetTakesTheMaskOfItsIndices(@ForAll("rowLengths") int n,
                                                 @ForAll @IntRange(min = 0, max = 19) int xOff,
                                                 @ForAll @IntRange(min = 0, max = 19) int yOff,
                                                 @ForAll int index, @ForAll boolean inPlace,
                                                 @ForAll("probabilities") float p, @ForAll long seed) {
        Random r = new Random(seed);
        int size = n + 20;
        float[] x = TestData.uniform(r, size, 3f), y0 = TestData.uniform(r, size, 3f);
        int threshold = DropoutKernel.threshold(p);
        float scale = 1f / (1f - p);
        for (DropoutKernel k : new DropoutKernel[] {UNDER_TEST.kernelSet().dropout(), new ScalarDropout()}) {
            try (Arena arena = Arena.ofConfined()) {
                // in place (y is x at the same offset, as fused attention drops its probabilities) or apart;
                // the index may wrap past Integer.MAX_VALUE, as the hash's int arithmetic does
                int from = inPlace ? xOff : yOff;
                float[] before = inPlace ? x : y0;
                FloatTensor y = TestData.tensor(arena, before);
                MemorySegment xs = inPlace ? y.segment() : TestData.tensor(arena, x).segment();
                k.apply(xs, xOff, y.segment(), from, n, index, threshold, scale, seed);
                float[] out = y.toArray();
                for (int i = 0; i < size; i++) {
                    int j = i - from;
                    float expected = j < 0 || j >= n ? before[i] : Dropout.kept(seed, p, index + j) ? x[xOff + j] * scale : 0f;
                    assertEquals(expected, out[i], k + (inPlace ? " in place" : "") + ": element " + i);
                }
            }
        }
    }

    @Property
    void backwardPassesGradientWhereForwardKept(@ForAll("sizes") int n, @ForAll("probabilities") float p, @ForAll long seed) {
        Random r = new Random(seed);
        float[] dy = TestData.uniform(r, n, 1f), dx0 = TestData.uniform(r, n, 1f);
        float[] mask = forward(TestData.SCALAR, filled(n), p, seed);
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor dx = TestData.tensor(arena, dx0);
                k.dropout().backward(TestData.tensor(arena, dy), dx, n, p, seed);
                double[] expected = new double[n];
                for (int i = 0; i < n; i++) {
                    expected[i] = dx0[i] + (double) dy[i] * mask[i];
                }
                TestData.assertClose(k.description(), expected, dx.toArray(), 1e-6, 1e-6);
            }
        }
    }

    private static float[] filled(int n) {
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        return ones;
    }

    @Property(tries = 20)
    void keepRateIsOneMinusP(@ForAll("probabilities") float p, @ForAll long seed) {
        int n = 200_000;
        float[] y = forward(UNDER_TEST, filled(n), p, seed);
        int kept = 0;
        for (float v : y) {
            kept += v != 0f ? 1 : 0;
        }
        double rate = kept / (double) n, sd = Math.sqrt(p * (1 - p) / n);
        assertTrue(Math.abs(rate - (1 - p)) <= 5 * sd + 1e-9, "kept " + rate + " for p = " + p);
    }

    @Property(tries = 10)
    void sameSeedSameMaskForAnyThreadCount(@ForAll @IntRange(min = 1, max = 100_000) int n, @ForAll long seed) {
        float[] x = filled(n);
        float[] one = forward(Kernels.withThreads(1), x, 0.3f, seed);
        assertArrayEquals(one, forward(Kernels.withThreads(2), x, 0.3f, seed));
        assertTrue(n < 64 || !java.util.Arrays.equals(one, forward(Kernels.withThreads(1), x, 0.3f, seed + 1)),
                "another seed gives another mask");
    }

    @Example
    void badProbabilitiesAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 10);
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.dropout().forward(x, x, 10, 1f, 1));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.dropout().forward(x, x, 10, -0.1f, 1));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.dropout().forward(x, x, 10, Float.NaN, 1));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.dropout().backward(x, x, 11, 0.1f, 1));
        }
    }
}
