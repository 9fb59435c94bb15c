package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.UNDER_TEST;
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

/**
 * The facades' shape-reading forms: sizes come from the tensors' shapes, give the bits of the
 * sized (BLAS-style) forms, and a shape that does not fit is refused with both shapes named.
 */
class ShapeCheckedFacadeTest {

    private static FloatTensor random(Arena arena, Random r, int... shape) {
        FloatTensor t = FloatTensor.allocate(arena, shape);
        t.copyFrom(TestData.uniform(r, (int) t.size(), 1f));
        return t;
    }

    @Property(tries = 40)
    void gemmReadFromShapesEqualsTheSizedForm(@ForAll @IntRange(min = 1, max = 40) int m, @ForAll @IntRange(min = 1, max = 40) int n,
                                             @ForAll @IntRange(min = 1, max = 40) int k, @ForAll boolean transA, @ForAll boolean transB,
                                             @ForAll long seed) {
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor a = transA ? random(arena, r, k, m) : random(arena, r, m, k);
            FloatTensor b = transB ? random(arena, r, n, k) : random(arena, r, k, n);
            FloatTensor c = random(arena, r, m, n), expected = FloatTensor.allocate(arena, m, n);
            expected.copyFrom(c);
            UNDER_TEST.matmul().gemm(transA, transB, 0.5f, a, b, 1f, c);
            UNDER_TEST.matmul().gemm(transA, transB, m, n, k, 0.5f, a, b, 1f, expected);
            assertArrayEquals(expected.toArray(), c.toArray());
        }
    }

    @Example
    void aMatrixOfTheRightSizeButTheWrongShapeIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor a = FloatTensor.allocate(arena, 3, 8), b = FloatTensor.allocate(arena, 4, 6);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> UNDER_TEST.matmul().multiply(a, b, FloatTensor.allocate(arena, 3, 6)));
            assertTrue(e.getMessage().contains("[3, 8]") && e.getMessage().contains("[4, 6]"), e.getMessage());
            FloatTensor c = FloatTensor.allocate(arena, 6, 3); // 18 elements, as (3, 6) has
            e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.matmul().multiply(a, FloatTensor.allocate(arena, 8, 6), c));
            assertTrue(e.getMessage().contains("C of shape [6, 3] should be (3, 6)"), e.getMessage());
            // leading dimensions count as rows: (2, 3, 8) x (8, 5) -> (2, 3, 5)
            UNDER_TEST.matmul().multiply(FloatTensor.allocate(arena, 2, 3, 8), FloatTensor.allocate(arena, 8, 5),
                    FloatTensor.allocate(arena, 2, 3, 5));
            e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.matmul().multiply(FloatTensor.allocate(arena, 24), b, c));
            assertTrue(e.getMessage().contains("is not a matrix"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.matmul().addBias(a, FloatTensor.allocate(arena, 3)));
            assertTrue(e.getMessage().contains("bias of shape [3] should hold 8 elements"), e.getMessage());
        }
    }

    @Example
    void rowKernelsReadTheirSizesAndRefuseShapesThatDoNotMatch() {
        Random r = new Random(4);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = random(arena, r, 3, 8), wrong = FloatTensor.allocate(arena, 4, 6), y = FloatTensor.allocate(arena, 3, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().add(x, wrong, y));
            assertTrue(e.getMessage().contains("y of shape [4, 6] does not match x of shape [3, 8]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.softmax().forward(x, wrong));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.activations().relu(x, wrong));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.loss().nllForward(x, y, new int[4], -1));

            FloatTensor expected = FloatTensor.allocate(arena, 3, 8);
            UNDER_TEST.softmax().forward(x, y);
            UNDER_TEST.softmax().forward(x, expected, 3, 8);
            assertArrayEquals(expected.toArray(), y.toArray());
            assertEquals(UNDER_TEST.elementwise().sumOfSquares(x, 24), UNDER_TEST.elementwise().sumOfSquares(x));

            FloatTensor gamma = random(arena, r, 8), beta = random(arena, r, 8), mean = FloatTensor.allocate(arena, 3),
                    rstd = FloatTensor.allocate(arena, 3);
            UNDER_TEST.layerNorm().forward(x, gamma, beta, y, mean, rstd, 1e-5f);
            UNDER_TEST.layerNorm().forward(x, gamma, beta, expected, mean, rstd, 3, 8, 1e-5f);
            assertArrayEquals(expected.toArray(), y.toArray());
            e = assertThrows(IllegalArgumentException.class,
                    () -> UNDER_TEST.layerNorm().forward(x, FloatTensor.allocate(arena, 3), beta, y, mean, rstd, 1e-5f));
            assertTrue(e.getMessage().contains("gamma of shape [3] should hold 8 elements"), e.getMessage());
        }
        Arena closed = Arena.ofConfined();
        FloatTensor dead = FloatTensor.allocate(closed, 2, 2);
        closed.close();
        assertThrows(IllegalStateException.class, () -> UNDER_TEST.elementwise().sum(dead));
    }
}
