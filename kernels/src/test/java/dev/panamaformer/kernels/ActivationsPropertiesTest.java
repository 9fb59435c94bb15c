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

class ActivationsPropertiesTest {

    @Provide
    Arbitrary<Integer> sizes() {
        return TestData.sizes(500);
    }

    private static float[] forward(Kernels k, boolean gelu, float[] x) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor tx = TestData.tensor(arena, x), ty = FloatTensor.allocate(arena, x.length);
            if (gelu) {
                k.activations().gelu(tx, ty, x.length);
            } else {
                k.activations().relu(tx, ty, x.length);
            }
            return ty.toArray();
        }
    }

    private static float[] backward(Kernels k, boolean gelu, float[] x, float[] dy, float[] dx) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor tdx = TestData.tensor(arena, dx);
            if (gelu) {
                k.activations().geluBackward(TestData.tensor(arena, x), TestData.tensor(arena, dy), tdx, x.length);
            } else {
                k.activations().reluBackward(TestData.tensor(arena, x), TestData.tensor(arena, dy), tdx, x.length);
            }
            return tdx.toArray();
        }
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Property
    void forwardMatchesDoublePrecision(@ForAll("sizes") int n, @ForAll boolean gelu, @ForAll long seed) {
        float[] x = TestData.uniform(new Random(seed), n, 6f);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            expected[i] = gelu ? gelu(x[i]) : Math.max(0, x[i]);
        }
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            TestData.assertClose(k.description(), expected, forward(k, gelu, x), 1e-6, 1e-5);
        }
    }

    @Property
    void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 70) int n, @ForAll boolean gelu, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, n, 4f), w = TestData.uniform(r, n, 1f), dx0 = TestData.uniform(r, n, 1f);
        for (int i = 0; i < n; i++) {
            if (Math.abs(x[i]) < 0.05f) {
                x[i] += 0.1f; // keep finite differences away from ReLU's kink
            }
        }
        float[] dx = backward(UNDER_TEST, gelu, x, w, dx0);
        for (int i = 0; i < n; i++) {
            dx[i] -= dx0[i];
        }
        FiniteDifferences.check(gelu ? "gelu" : "relu", x, xs -> FiniteDifferences.weighted(w, forward(TestData.SCALAR, gelu, xs)),
                dx, 1e-2f, 2e-3);
    }

    @Property
    @AddLifecycleHook(SimdOnly.class)
    void simdBackwardMatchesScalar(@ForAll("sizes") int n, @ForAll boolean gelu, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, n, 6f), dy = TestData.uniform(r, n, 1f), dx = TestData.uniform(r, n, 1f);
        TestData.assertClose("backward", backward(TestData.SCALAR, gelu, x, dy, dx), backward(UNDER_TEST, gelu, x, dy, dx), 1e-6, 1e-5);
    }

    @Property(tries = 10)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 200_000) int n, @ForAll long seed) {
        float[] x = TestData.uniform(new Random(seed), n, 6f);
        assertArrayEquals(forward(Kernels.withThreads(1), true, x), forward(Kernels.withThreads(2), true, x));
    }

    @Example
    void badArgumentsAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 10), y = FloatTensor.allocate(arena, 9);
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.activations().gelu(x, y, 10));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.activations().relu(x, x, -1));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.activations().reluBackward(x, x, x, 10));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.activations().gelu(x, x.view(1, 9), 9));
        }
    }
}
