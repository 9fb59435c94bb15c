package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.UNDER_TEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

class LayerNormPropertiesTest {
    private static final float EPS = 1e-5f;

    @Provide
    Arbitrary<Integer> cols() {
        return TestData.sizes(300).filter(c -> c > 0);
    }

    /** y, then mean, then rstd. */
    private static float[] forward(Kernels k, float[] x, float[] gamma, float[] beta, int rows, int cols) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor y = FloatTensor.allocate(arena, rows * cols + 2 * rows);
            FloatTensor mean = y.view(rows * cols, rows), rstd = y.view(rows * cols + rows, rows);
            k.layerNorm().forward(TestData.tensor(arena, x), TestData.tensor(arena, gamma), TestData.tensor(arena, beta),
                    y.view(0, rows * cols), mean, rstd, rows, cols, EPS);
            return y.toArray();
        }
    }

    @Property
    void forwardMatchesDoublePrecision(@ForAll @IntRange(max = 20) int rows, @ForAll("cols") int cols, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 4f), gamma = TestData.uniform(r, cols, 2f), beta = TestData.uniform(r, cols, 1f);
        for (int i = 0; i < x.length; i++) {
            x[i] += 3f; // an offset from zero tests the variance computation
        }
        double[] expected = new double[rows * cols + 2 * rows], bound = new double[expected.length];
        for (int i = 0; i < rows; i++) {
            double mean = 0, var = 0, maxAbs = 0;
            for (int j = 0; j < cols; j++) {
                mean += x[i * cols + j];
                maxAbs = Math.max(maxAbs, Math.abs(x[i * cols + j]));
            }
            mean /= cols;
            for (int j = 0; j < cols; j++) {
                var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
            }
            double rstd = 1 / Math.sqrt(var / cols + EPS);
            // float rounding of x - mean is relative to |x|, so it grows as the row's spread shrinks
            double cond = maxAbs * rstd, rel = 4 * (cols + 4) * TestData.EPS * (cond + 1);
            for (int j = 0; j < cols; j++) {
                double xhat = (x[i * cols + j] - mean) * rstd;
                expected[i * cols + j] = xhat * gamma[j] + beta[j];
                bound[i * cols + j] = rel * (Math.abs(gamma[j]) * (cond + Math.abs(xhat)) + Math.abs(beta[j])) + 1e-7;
            }
            expected[rows * cols + i] = mean;
            bound[rows * cols + i] = rel * maxAbs + 1e-7;
            expected[rows * cols + rows + i] = rstd;
            bound[rows * cols + rows + i] = rel * rstd; // rel carries (cond + 1): rstd rounds even when the row is flat
        }
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            TestData.assertWithin(k.description(), expected, forward(k, x, gamma, beta, rows, cols), bound);
        }
    }

    @Property
    void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 3) int rows, @ForAll @IntRange(min = 4, max = 40) int cols,
                                          @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 2f), gamma = TestData.uniform(r, cols, 2f), beta = TestData.uniform(r, cols, 1f);
        float[] w = TestData.uniform(r, rows * cols, 1f);
        float[] fwd = forward(UNDER_TEST, x, gamma, beta, rows, cols);
        float[] dx, dGamma, dBeta;
        try (Arena arena = Arena.ofShared()) {
            FloatTensor all = TestData.tensor(arena, fwd);
            FloatTensor tdx = FloatTensor.allocate(arena, rows * cols), tdg = FloatTensor.allocate(arena, cols), tdb = FloatTensor.allocate(arena, cols);
            UNDER_TEST.layerNorm().backward(TestData.tensor(arena, x), TestData.tensor(arena, gamma), all.view(rows * cols, rows),
                    all.view(rows * cols + rows, rows), TestData.tensor(arena, w), tdx, tdg, tdb, rows, cols);
            dx = tdx.toArray();
            dGamma = tdg.toArray();
            dBeta = tdb.toArray();
        }
        // central differences of the exact function, in double precision with a small step: float
        // forward passes with the step large enough to rise above their rounding hit LayerNorm's
        // curvature on flat rows (seen as a 1 % miss); the forward kernel is checked against this
        // same double-precision function above
        double[] xd = TestData.toDouble(x), gd = TestData.toDouble(gamma), bd = TestData.toDouble(beta);
        checkFd("layerNorm dx", xd, dx, v -> weightedLayerNorm(w, v, gd, bd, rows, cols));
        checkFd("layerNorm dGamma", gd, dGamma, v -> weightedLayerNorm(w, xd, v, bd, rows, cols));
        checkFd("layerNorm dBeta", bd, dBeta, v -> weightedLayerNorm(w, xd, gd, v, rows, cols));
    }

    /** sum of w * LayerNorm(x) in double precision. */
    static double weightedLayerNorm(float[] w, double[] x, double[] gamma, double[] beta, int rows, int cols) {
        double total = 0;
        for (int i = 0; i < rows; i++) {
            double mean = 0, var = 0;
            for (int j = 0; j < cols; j++) {
                mean += x[i * cols + j];
            }
            mean /= cols;
            for (int j = 0; j < cols; j++) {
                var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
            }
            double rstd = 1 / Math.sqrt(var / cols + EPS);
            for (int j = 0; j < cols; j++) {
                total += w[i * cols + j] * ((x[i * cols + j] - mean) * rstd * gamma[j] + beta[j]);
            }
        }
        return total;
    }

    private static void checkFd(String what, double[] at, float[] analytic, java.util.function.ToDoubleFunction<double[]> f) {
        double h = 1e-4;
        for (int i = 0; i < at.length; i++) {
            double saved = at[i];
            at[i] = saved + h;
            double plus = f.applyAsDouble(at);
            at[i] = saved - h;
            double minus = f.applyAsDouble(at);
            at[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            if (!(Math.abs(analytic[i] - numeric) <= 1e-3 * (1 + Math.abs(numeric)))) {
                org.junit.jupiter.api.Assertions.fail(what + ": gradient " + i + " is " + analytic[i] + ", finite differences give " + numeric);
            }
        }
    }

    @Property(tries = 30)
    @AddLifecycleHook(SimdOnly.class)
    void simdBackwardMatchesScalar(@ForAll @IntRange(max = 30) int rows, @ForAll("cols") int cols, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 2f), gamma = TestData.uniform(r, cols, 2f), beta = TestData.uniform(r, cols, 1f);
        float[] dy = TestData.uniform(r, rows * cols, 1f);
        float[] fwd = forward(TestData.SCALAR, x, gamma, beta, rows, cols);
        float[][] out = new float[2][];
        Kernels[] ks = {UNDER_TEST, TestData.SCALAR};
        for (int t = 0; t < 2; t++) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor all = TestData.tensor(arena, fwd);
                FloatTensor grads = FloatTensor.allocate(arena, rows * cols + 2 * cols);
                ks[t].layerNorm().backward(TestData.tensor(arena, x), TestData.tensor(arena, gamma), all.view(rows * cols, rows),
                        all.view(rows * cols + rows, rows), TestData.tensor(arena, dy), grads.view(0, rows * cols),
                        grads.view(rows * cols, cols), grads.view(rows * cols + cols, cols), rows, cols);
                out[t] = grads.toArray();
            }
        }
        TestData.assertClose("layerNorm backward", out[1], out[0], 1e-4 * (1 + rows), 1e-4);
    }

    @Property(tries = 20)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 400) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
                                         @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, rows * cols, 2f), gamma = TestData.uniform(r, cols, 2f), beta = TestData.uniform(r, cols, 1f);
        float[] fwd = forward(Kernels.withThreads(1), x, gamma, beta, rows, cols);
        assertArrayEquals(fwd, forward(Kernels.withThreads(2), x, gamma, beta, rows, cols));
        float[][] out = new float[2][];
        for (int t = 0; t < 2; t++) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor all = TestData.tensor(arena, fwd);
                FloatTensor grads = FloatTensor.allocate(arena, rows * cols + 2 * cols);
                Kernels.withThreads(t + 1).layerNorm().backward(TestData.tensor(arena, x), TestData.tensor(arena, gamma),
                        all.view(rows * cols, rows), all.view(rows * cols + rows, rows), all.view(0, rows * cols),
                        grads.view(0, rows * cols), grads.view(rows * cols, cols), grads.view(rows * cols + cols, cols), rows, cols);
                out[t] = grads.toArray();
            }
        }
        assertArrayEquals(out[0], out[1]);
    }

    @Example
    void badArgumentsAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 4, 8), g = FloatTensor.allocate(arena, 8), s = FloatTensor.allocate(arena, 4);
            FloatTensor y = FloatTensor.allocate(arena, 4, 8);
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.layerNorm().forward(x, g, g, y, s, s, 4, 9, EPS));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.layerNorm().forward(x, g, g, y, s, s, 5, 8, EPS));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.layerNorm().forward(x, g, g, y, s, s, 4, 8, 0f));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.layerNorm().backward(x, g, s, s, y, x, g, g, 4, 8));
        }
    }
}
