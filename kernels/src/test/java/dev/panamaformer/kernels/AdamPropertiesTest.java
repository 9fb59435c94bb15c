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

class AdamPropertiesTest {

    @Provide
    Arbitrary<Integer> sizes() {
        return TestData.sizes(300);
    }

    /** Runs {@code steps} updates with fresh gradients; returns params, m and v concatenated. */
    private static float[] run(Kernels k, float[] p0, float[][] grads, float wd, boolean decoupled) {
        int n = p0.length;
        try (Arena arena = Arena.ofShared()) {
            FloatTensor p = TestData.tensor(arena, p0), m = FloatTensor.allocate(arena, n), v = FloatTensor.allocate(arena, n);
            for (int t = 0; t < grads.length; t++) {
                k.adam().update(p, TestData.tensor(arena, grads[t]), m, v, n, t + 1, 1e-2f, 0.9f, 0.98f, 1e-9f, wd, decoupled);
            }
            float[] out = new float[3 * n];
            System.arraycopy(p.toArray(), 0, out, 0, n);
            System.arraycopy(m.toArray(), 0, out, n, n);
            System.arraycopy(v.toArray(), 0, out, 2 * n, n);
            return out;
        }
    }

    /** The textbook algorithm (Kingma and Ba; Loshchilov and Hutter for decoupled decay), in double. */
    private static double[] naive(float[] p0, float[][] grads, double wd, boolean decoupled) {
        int n = p0.length;
        double[] p = TestData.toDouble(p0), m = new double[n], v = new double[n];
        double lr = 1e-2, b1 = 0.9f, b2 = 0.98f, eps = 1e-9;
        for (int t = 1; t <= grads.length; t++) {
            for (int i = 0; i < n; i++) {
                double g = grads[t - 1][i] + (decoupled ? 0 : wd * p[i]);
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t)), vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] = p[i] * (decoupled ? 1 - lr * wd : 1) - lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        double[] out = new double[3 * n];
        System.arraycopy(p, 0, out, 0, n);
        System.arraycopy(m, 0, out, n, n);
        System.arraycopy(v, 0, out, 2 * n, n);
        return out;
    }

    @Property
    void updatesMatchDoublePrecision(@ForAll("sizes") int n, @ForAll @IntRange(min = 1, max = 5) int steps,
                                     @ForAll boolean decay, @ForAll boolean decoupled, @ForAll long seed) {
        Random r = new Random(seed);
        float[] p0 = TestData.uniform(r, n, 1f);
        float[][] grads = new float[steps][];
        for (int t = 0; t < steps; t++) {
            grads[t] = TestData.uniform(r, n, 0.1f);
        }
        float wd = decay ? 0.01f : 0f;
        double[] expected = naive(p0, grads, wd, decoupled);
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            TestData.assertClose(k.description(), expected, run(k, p0, grads, wd, decoupled), 1e-6, 1e-4);
        }
    }

    @Property(tries = 10)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 100_000) int n, @ForAll long seed) {
        Random r = new Random(seed);
        float[] p0 = TestData.uniform(r, n, 1f);
        float[][] grads = {TestData.uniform(r, n, 0.1f), TestData.uniform(r, n, 0.1f)};
        assertArrayEquals(run(Kernels.withThreads(1), p0, grads, 0.01f, true), run(Kernels.withThreads(2), p0, grads, 0.01f, true));
    }

    /**
     * One call over all elements gives the bits of one call per piece, wherever the pieces end:
     * an element's update does not depend on whether it falls in a whole vector or the tail
     * (what lets the trainer update every parameter of a model in one flat call).
     */
    @Property(tries = 50)
    void resultsDoNotDependOnWhereTheCallsSplit(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll boolean decoupled,
                                               @ForAll long seed) {
        Random r = new Random(seed);
        float[] p0 = TestData.uniform(r, n, 1f), g = TestData.uniform(r, n, 0.1f);
        int[] cuts = r.ints(3, 0, n + 1).sorted().toArray();
        try (Arena arena = Arena.ofShared()) {
            FloatTensor p = TestData.tensor(arena, p0), m = FloatTensor.allocate(arena, n), v = FloatTensor.allocate(arena, n);
            FloatTensor q = TestData.tensor(arena, p0), mq = FloatTensor.allocate(arena, n), vq = FloatTensor.allocate(arena, n);
            FloatTensor grad = TestData.tensor(arena, g);
            for (int step = 1; step <= 2; step++) {
                UNDER_TEST.adam().update(p, grad, m, v, n, step, 1e-2f, 0.9f, 0.98f, 1e-9f, 0.01f, decoupled);
                int from = 0;
                for (int i = 0; i <= cuts.length; i++) {
                    int to = i < cuts.length ? cuts[i] : n;
                    if (to > from) {
                        UNDER_TEST.adam().update(q.view(from, to - from), grad.view(from, to - from), mq.view(from, to - from),
                                vq.view(from, to - from), to - from, step, 1e-2f, 0.9f, 0.98f, 1e-9f, 0.01f, decoupled);
                    }
                    from = Math.max(from, to);
                }
            }
            assertArrayEquals(p.toArray(), q.toArray(), "parameters, cuts " + java.util.Arrays.toString(cuts));
            assertArrayEquals(m.toArray(), mq.toArray(), "first moments");
            assertArrayEquals(v.toArray(), vq.toArray(), "second moments");
        }
    }

    @Example
    void badArgumentsAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor p = FloatTensor.allocate(arena, 10), g = FloatTensor.allocate(arena, 10);
            FloatTensor m = FloatTensor.allocate(arena, 10), v = FloatTensor.allocate(arena, 9);
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.adam().update(p, g, m, v, 10, 1, 1e-3f, 0.9f, 0.98f, 1e-9f, 0f, false));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.adam().update(p, g, m, m, 9, 1, 1e-3f, 0.9f, 0.98f, 1e-9f, 0f, false));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.adam().update(p, g, m, v, 9, 0, 1e-3f, 0.9f, 0.98f, 1e-9f, 0f, false));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.adam().update(p, g, m, v, 9, 1, 1e-3f, 1f, 0.98f, 1e-9f, 0f, false));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.adam().update(p, g, m, v, 9, 1, 1e-3f, 0.9f, 0.98f, 0f, 0f, false));
        }
    }
}
