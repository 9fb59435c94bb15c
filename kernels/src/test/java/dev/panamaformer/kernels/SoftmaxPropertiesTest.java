package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.UNDER_TEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

class SoftmaxPropertiesTest {

    @Provide
    Arbitrary<Integer> cols() {
        return TestData.sizes(300);
    }

    @Provide
    Arbitrary<Integer> rows() {
        return TestData.sizes(24);
    }

    /** Softmax in double, textbook form: max, exp, sum, divide; with the same masking rules. */
    static double[] naive(float[] x, int rows, int cols, float[] mask, int rowsPerMaskRow, int period) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int limit = period > 0 ? Math.min(cols, r % period + cols - period + 1) : cols;
            double max = Double.NEGATIVE_INFINITY;
            double[] v = new double[cols];
            for (int j = 0; j < limit; j++) {
                v[j] = x[r * cols + j] + (mask == null ? 0 : mask[(r / rowsPerMaskRow) * cols + j]);
                max = Math.max(max, v[j]);
            }
            double sum = 0;
            for (int j = 0; j < limit; j++) {
                sum += Math.exp(v[j] - max);
            }
            for (int j = 0; j < limit; j++) {
                y[r * cols + j] = sum > 0 && max > Double.NEGATIVE_INFINITY ? Math.exp(v[j] - max) / sum : 0;
            }
        }
        return y;
    }

    private static float[] run(Kernels k, float[] x, int rows, int cols, float[] mask, int rowsPerMaskRow, int period) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor tx = TestData.tensor(arena, x), ty = FloatTensor.allocate(arena, Math.max(1, x.length));
            RowMask rm = mask == null ? RowMask.causal(period)
                    : RowMask.additive(TestData.tensor(arena, mask), rowsPerMaskRow).andCausal(period);
            k.softmax().forward(tx, ty, rows, cols, rm);
            return ty.toArray();
        }
    }

    @Property
    void forwardMatchesDoublePrecision(@ForAll("rows") int rows, @ForAll("cols") int cols, @ForAll boolean masked,
                                       @ForAll @IntRange(max = 5) int period, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 8f);
        int rowsPerMaskRow = 1 + r.nextInt(4);
        float[] mask = null;
        if (masked) {
            mask = new float[((rows + rowsPerMaskRow - 1) / rowsPerMaskRow) * cols];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = r.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : (r.nextInt(3) == 0 ? -1e9f : 0f);
            }
        }
        double[] expected = naive(x, rows, cols, mask, rowsPerMaskRow, period);
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            TestData.assertClose(k.description(), expected, run(k, x, rows, cols, mask, rowsPerMaskRow, period),
                    1e-7, 2e-6 + cols * 1e-8);
        }
    }

    @Property
    void rowsSumToOne(@ForAll("rows") int rows, @ForAll @IntRange(min = 1, max = 300) int cols, @ForAll long seed) {
        float[] y = run(UNDER_TEST, TestData.uniform(new Random(seed), rows * cols, 30f), rows, cols, null, 1, 0);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += y[r * cols + j];
            }
            assertEquals(1.0, sum, 1e-5, "row " + r);
        }
    }

    @Example
    void hugeScoresDoNotOverflow() {
        float[] x = {1e30f, 1e30f, -1e30f, 88.8f, 1000f, 1000f, 999f, Float.NEGATIVE_INFINITY};
        float[] y = run(UNDER_TEST, x, 2, 4, null, 1, 0);
        assertArrayEquals(new float[] {0.5f, 0.5f, 0f, 0f}, java.util.Arrays.copyOf(y, 4), 1e-6f);
        double e = Math.exp(-1);
        assertArrayEquals(new float[] {(float) (1 / (2 + e)), (float) (1 / (2 + e)), (float) (e / (2 + e)), 0f},
                java.util.Arrays.copyOfRange(y, 4, 8), 1e-6f);
    }

    @Example
    void aFullyMaskedRowIsAllZeros() {
        float[] x = {1, 2, 3, 4, 5, 6};
        float inf = Float.NEGATIVE_INFINITY;
        float[] mask = {inf, inf, inf, 0, inf, 0};
        float[] y = run(UNDER_TEST, x, 2, 3, mask, 1, 0);
        assertArrayEquals(new float[] {0, 0, 0}, java.util.Arrays.copyOf(y, 3));
        assertEquals(1f, y[3] + y[5], 1e-6f);
    }

    @Property
    void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 4) int rows, @ForAll @IntRange(min = 1, max = 40) int cols,
                                          @ForAll @IntRange(max = 3) int period, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 2f), w = TestData.uniform(r, rows * cols, 1f);
        float[] y = run(UNDER_TEST, x, rows, cols, null, 1, period);
        float[] dx = TestData.uniform(r, rows * cols, 1f), dx0 = dx.clone();
        try (Arena arena = Arena.ofShared()) {
            FloatTensor tdx = TestData.tensor(arena, dx);
            UNDER_TEST.softmax().backward(TestData.tensor(arena, y), TestData.tensor(arena, w), tdx, rows, cols);
            dx = tdx.toArray();
        }
        for (int i = 0; i < dx.length; i++) {
            dx[i] -= dx0[i]; // backward accumulates: subtract what was there
        }
        FiniteDifferences.check("softmax backward", x,
                xs -> FiniteDifferences.weighted(w, run(TestData.SCALAR, xs, rows, cols, null, 1, period)), dx, 1e-2f, 2e-3);
    }

    @Property
    @AddLifecycleHook(SimdOnly.class)
    void backwardSimdMatchesScalar(@ForAll("rows") int rows, @ForAll("cols") int cols, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 3f), dy = TestData.uniform(r, rows * cols, 1f);
        float[] y = run(TestData.SCALAR, x, rows, cols, null, 1, 0);
        float[][] out = new float[2][];
        Kernels[] ks = {UNDER_TEST, TestData.SCALAR};
        for (int t = 0; t < 2; t++) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor dx = FloatTensor.allocate(arena, Math.max(1, rows * cols));
                ks[t].softmax().backward(TestData.tensor(arena, y), TestData.tensor(arena, dy), dx, rows, cols);
                out[t] = dx.toArray();
            }
        }
        TestData.assertClose("softmax backward", out[1], out[0], 1e-6, 1e-5);
    }

    @Property(tries = 20)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 400) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
                                         @ForAll long seed) {
        float[] x = TestData.uniform(new Random(seed), rows * cols, 5f);
        assertArrayEquals(run(Kernels.withThreads(1), x, rows, cols, null, 1, 3), run(Kernels.withThreads(2), x, rows, cols, null, 1, 3));
    }

    @Example
    void badShapesAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 4, 5), small = FloatTensor.allocate(arena, 3, 5);
            var e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().forward(x, small, 4, 5));
            assertEquals(true, e.getMessage().contains("(4, 5)") && e.getMessage().contains("[3, 5]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().forward(x, x, 4, 5,
                    RowMask.additive(FloatTensor.allocate(arena, 4), 1)));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().forward(x, x, -1, 5));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().backward(x, x, x, 4, 5));
            assertThrows(IllegalArgumentException.class, () -> RowMask.causal(-1));
            assertThrows(IllegalArgumentException.class, () -> x.view(1, 4, 5));
            var partial = x.view(1, 19);
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().forward(x, partial, 1, 19));
        }
    }
}
