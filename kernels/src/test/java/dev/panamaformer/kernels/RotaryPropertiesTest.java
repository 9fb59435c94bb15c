package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.EPS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** Rotary position embeddings against a naive double-precision rotation, and the properties RoPE is used for. */
class RotaryPropertiesTest {
    private static final int POSITIONS = 64;

    /** y from the kernels {@code k} for x (rows, heads * headSize) at {@code positions}. */
    private static float[] rotate(Kernels k, float[] x, int rows, int heads, int headSize, int[] positions, double scale,
                                  boolean inverse, boolean inPlace) {
        try (Arena arena = Arena.ofShared()) {
            RotaryTable table = RotaryTable.of(arena, POSITIONS, headSize, RotaryTable.BASE, scale);
            FloatTensor tx = FloatTensor.of(arena, x, Math.max(rows, 1), heads * headSize);
            FloatTensor ty = inPlace ? tx : FloatTensor.allocate(arena, Math.max(rows, 1), heads * headSize);
            k.rotary().rotate(tx, ty, rows, heads, positions, table, inverse);
            return ty.toArray();
        }
    }

    private static int[] positions(Random random, int rows) {
        int[] p = new int[rows];
        for (int r = 0; r < rows; r++) {
            p[r] = random.nextInt(POSITIONS);
        }
        return p;
    }

    /** The rotation in double, from the angle itself: the oracle for the layout, the table and both directions. */
    @Property(tries = 60)
    void matchesANaiveRotation(@ForAll @IntRange(min = 0, max = 9) int rows, @ForAll @IntRange(min = 1, max = 3) int heads,
                               @ForAll @IntRange(min = 1, max = 40) int half, @ForAll boolean inverse, @ForAll boolean inPlace,
                               @ForAll long seed) {
        int headSize = 2 * half, width = heads * headSize;
        Random random = new Random(seed);
        float[] x = TestData.uniform(random, Math.max(rows, 1) * width, 2f);
        int[] pos = positions(random, rows);
        double scale = random.nextBoolean() ? 1 : 2.5;
        float[] y = rotate(TestData.UNDER_TEST, x.clone(), rows, heads, headSize, pos, scale, inverse, inPlace);
        double[] expected = new double[rows * width], bound = new double[rows * width];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < half; i++) {
                    int at = r * width + h * headSize + i;
                    double angle = pos[r] / scale * Math.pow(RotaryTable.BASE, -2.0 * i / headSize) * (inverse ? -1 : 1);
                    double a = x[at], b = x[at + half], c = Math.cos(angle), s = Math.sin(angle);
                    expected[at] = a * c - b * s;
                    expected[at + half] = b * c + a * s;
                    // the table rounds cos and sin, and each product and the sum round once
                    bound[at] = bound[at + half] = 8 * EPS * (Math.abs(a) + Math.abs(b));
                }
            }
        }
        TestData.assertWithin("rotary", expected, y, bound);
    }

    @Property(tries = 40)
    @AddLifecycleHook(SimdOnly.class)
    void simdGivesTheScalarBits(@ForAll @IntRange(min = 0, max = 9) int rows, @ForAll @IntRange(min = 1, max = 3) int heads,
                                @ForAll @IntRange(min = 1, max = 70) int half, @ForAll boolean inverse, @ForAll long seed) {
        int headSize = 2 * half;
        Random random = new Random(seed);
        float[] x = TestData.uniform(random, Math.max(rows, 1) * heads * headSize, 3f);
        int[] pos = positions(random, rows);
        assertArrayEquals(rotate(TestData.SCALAR, x, rows, heads, headSize, pos, 1, inverse, false),
                rotate(TestData.UNDER_TEST, x, rows, heads, headSize, pos, 1, inverse, false));
    }

    /** q·k after rotating q to m and k to n depends on m - n only: the reason RoPE exists. */
    @Property(tries = 60)
    void aQueryKeyProductDependsOnTheirDistanceOnly(@ForAll @IntRange(min = 1, max = 32) int half,
                                                    @ForAll @IntRange(min = 0, max = 30) int m,
                                                    @ForAll @IntRange(min = 0, max = 30) int n,
                                                    @ForAll @IntRange(min = 0, max = 33) int shift, @ForAll long seed) {
        int headSize = 2 * half;
        Random random = new Random(seed);
        float[] q = TestData.uniform(random, headSize, 1f), k = TestData.uniform(random, headSize, 1f);
        double near = dot(rotate(TestData.UNDER_TEST, q, 1, 1, headSize, new int[] {m}, 1, false, false),
                rotate(TestData.UNDER_TEST, k, 1, 1, headSize, new int[] {n}, 1, false, false));
        double far = dot(rotate(TestData.UNDER_TEST, q, 1, 1, headSize, new int[] {m + shift}, 1, false, false),
                rotate(TestData.UNDER_TEST, k, 1, 1, headSize, new int[] {n + shift}, 1, false, false));
        assertEquals(near, far, 64 * EPS * headSize, "positions " + m + ", " + n + " and shifted by " + shift);
    }

    /**
     * The inverse is the backward pass: for f(x) = w · R x, df/dx = Rᵀ w, checked against central
     * differences; and it undoes the rotation.
     */
    @Property(tries = 30)
    void theInverseIsTheGradientAndUndoesTheRotation(@ForAll @IntRange(min = 1, max = 4) int rows,
                                                     @ForAll @IntRange(min = 1, max = 12) int half, @ForAll long seed) {
        int headSize = 2 * half, heads = 2, width = heads * headSize;
        Random random = new Random(seed);
        float[] x = TestData.uniform(random, rows * width, 1f), w = TestData.uniform(random, rows * width, 1f);
        int[] pos = positions(random, rows);
        float[] gradient = rotate(TestData.UNDER_TEST, w, rows, heads, headSize, pos, 1, true, false);
        FiniteDifferences.check("rotary backward", x,
                v -> FiniteDifferences.weighted(w, rotate(TestData.SCALAR, v, rows, heads, headSize, pos, 1, false, false)),
                gradient, 1e-2f, 1e-3);
        float[] back = rotate(TestData.UNDER_TEST, rotate(TestData.UNDER_TEST, x, rows, heads, headSize, pos, 1, false, false),
                rows, heads, headSize, pos, 1, true, false);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], back[i], 8 * EPS * (1 + Math.abs(x[i])), "element " + i);
        }
    }

    /** Position interpolation by s turns position s m as far as the plain table turns m. */
    @Example
    void interpolationSqueezesPositions() {
        try (Arena arena = Arena.ofShared()) {
            RotaryTable plain = RotaryTable.of(arena, 40, 16, RotaryTable.BASE, 1), scaled = RotaryTable.of(arena, 40, 16,
                    RotaryTable.BASE, 2);
            for (int m = 0; m < 20; m++) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(plain.cos().get(m * 8 + i), scaled.cos().get(2 * m * 8 + i), 1e-6f);
                    assertEquals(plain.sin().get(m * 8 + i), scaled.sin().get(2 * m * 8 + i), 1e-6f);
                }
            }
        }
    }

    @Example
    void badInputIsNamed() {
        try (Arena arena = Arena.ofShared()) {
            RotaryTable table = RotaryTable.of(arena, 8, 4, RotaryTable.BASE, 1);
            FloatTensor x = FloatTensor.allocate(arena, 2, 8);
            var outside = assertThrows(IllegalArgumentException.class,
                    () -> TestData.UNDER_TEST.rotary().rotate(x, x, 2, 2, new int[] {3, 8}, table, false));
            assertTrue(outside.getMessage().contains("row 1 is at position 8"), outside.getMessage());
            var small = assertThrows(IllegalArgumentException.class,
                    () -> TestData.UNDER_TEST.rotary().rotate(x, x, 2, 3, new int[] {0, 0}, table, false));
            assertTrue(small.getMessage().contains("x"), small.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.rotary().rotate(x, x, 3, 2, new int[] {0, 0}, table,
                    false));
            var odd = assertThrows(IllegalArgumentException.class, () -> RotaryTable.of(arena, 8, 5, RotaryTable.BASE, 1));
            assertTrue(odd.getMessage().contains("even head size"), odd.getMessage());
            assertThrows(IllegalArgumentException.class, () -> RotaryTable.of(arena, 8, 4, RotaryTable.BASE, 0));
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
