package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.EPS;
import static dev.panamaformer.kernels.TestData.UNDER_TEST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class ElementwisePropertiesTest {

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.oneOf(TestData.sizes(600), Arbitraries.of(Chunks.SIZE - 1, Chunks.SIZE + 1, 3 * Chunks.SIZE + 17));
    }

    @Property
    void arithmeticMatchesDoublePrecision(@ForAll("sizes") int n, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, n, 5f), y = TestData.uniform(r, n, 5f);
        double[] sum = new double[n], scaled = new double[n], axpy = new double[n];
        for (int i = 0; i < n; i++) {
            sum[i] = (double) x[i] + y[i];
            scaled[i] = -1.5 * x[i];
            axpy[i] = y[i] + 0.25 * x[i];
        }
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tx = TestData.tensor(arena, x), ty = TestData.tensor(arena, y), out = FloatTensor.allocate(arena, n);
                k.elementwise().add(tx, ty, out, n);
                TestData.assertClose("add", sum, out.toArray(), 0, EPS);
                k.elementwise().scale(tx, -1.5f, out, n);
                TestData.assertClose("scale", scaled, out.toArray(), 0, EPS);
                k.elementwise().axpy(0.25f, tx, ty, n);
                TestData.assertClose("axpy", axpy, ty.toArray(), 1e-6, 2 * EPS);
            }
        }
    }

    @Provide
    Arbitrary<Integer> rowLengths() {
        return TestData.rowLengths();
    }

    /**
     * The row forms fused attention uses (scale, zero and dot product of rows at any offsets), SIMD
     * and its scalar twin: scaling gives the scalar products' bits, zeroing touches its range only,
     * the dot product is within float rounding of the double sum.
     */
    @Property
    void rowFormsAtAnyOffsetsMatchTheirScalarTwin(@ForAll("rowLengths") int n,
                                                  @ForAll @IntRange(min = 0, max = 19) int xOff,
                                                  @ForAll @IntRange(min = 0, max = 19) int yOff, @ForAll long seed) {
        Random r = new Random(seed);
        int size = n + 20;
        float[] x = TestData.uniform(r, size, 2f), y = TestData.uniform(r, size, 2f);
        float factor = r.nextFloat() * 4f - 2f;
        for (ElementwiseKernel k : new ElementwiseKernel[] {UNDER_TEST.kernelSet().elementwise(), new ScalarElementwise()}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment xs = TestData.tensor(arena, x).segment(), ys = TestData.tensor(arena, y).segment();
                double sum = 0, magnitude = 0;
                for (int j = 0; j < n; j++) {
                    double t = (double) x[xOff + j] * y[yOff + j];
                    sum += t;
                    magnitude += Math.abs(t);
                }
                float dot = k.dot(xs, xOff, ys, yOff, n);
                assertTrue(Math.abs(dot - sum) <= 1e-6 * (n + 2) * Math.max(magnitude, 1e-30), k + ": dot " + dot + ", expected " + sum);
                k.scale(xs, xOff, ys, yOff, n, factor);
                for (int i = 0; i < size; i++) {
                    float expected = i >= yOff && i < yOff + n ? x[xOff + i - yOff] * factor : y[i];
                    assertEquals(expected, ys.getAtIndex(ValueLayout.JAVA_FLOAT, i), k + ": scale, element " + i);
                }
                k.zero(xs, xOff, n);
                for (int i = 0; i < size; i++) {
                    assertEquals(i >= xOff && i < xOff + n ? 0f : x[i], xs.getAtIndex(ValueLayout.JAVA_FLOAT, i), k + ": zero, element " + i);
                }
            }
        }
    }

    @Property
    void reductionsMatchDoublePrecision(@ForAll("sizes") int n, @ForAll long seed) {
        Random r = new Random(seed);
        float[] x = TestData.uniform(r, n, 5f), y = TestData.uniform(r, n, 5f);
        double sum = 0, dot = 0, sq = 0, absSum = 0, absDot = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            sum += x[i];
            absSum += Math.abs(x[i]);
            dot += (double) x[i] * y[i];
            absDot += Math.abs((double) x[i] * y[i]);
            sq += (double) x[i] * x[i];
            max = Math.max(max, x[i]);
        }
        // chunks of Chunks.SIZE are summed in float, the chunk sums in double
        double bound = 2 * (Math.min(n, Chunks.SIZE) + 2) * EPS;
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tx = TestData.tensor(arena, x), ty = TestData.tensor(arena, y);
                assertEquals(sum, k.elementwise().sum(tx, n), bound * absSum + 1e-30, "sum");
                assertEquals(dot, k.elementwise().dot(tx, ty, n), bound * absDot + 1e-30, "dot");
                assertEquals(sq, k.elementwise().sumOfSquares(tx, n), bound * sq + 1e-30, "sumOfSquares");
                assertEquals(max, k.elementwise().max(tx, n), "max");
            }
        }
    }

    @Property
    void gatherAndScatterAddRowsAreAnEmbeddingLookupAndItsGradient(@ForAll @IntRange(min = 1, max = 20) int tableRows,
                                                                   @ForAll("sizes") int cols, @ForAll @IntRange(max = 30) int count,
                                                                   @ForAll long seed) {
        Random r = new Random(seed);
        float[] table = TestData.uniform(r, tableRows * cols, 1f), dOut = TestData.uniform(r, count * cols, 1f);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = r.nextInt(tableRows);
        }
        double[] gathered = new double[count * cols], dTable = new double[tableRows * cols];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < cols; j++) {
                gathered[i * cols + j] = table[ids[i] * cols + j];
                dTable[ids[i] * cols + j] += dOut[i * cols + j];
            }
        }
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor out = FloatTensor.allocate(arena, count * cols), grad = FloatTensor.allocate(arena, tableRows * cols);
                k.elementwise().gatherRows(TestData.tensor(arena, table), tableRows, ids, count, out, cols);
                TestData.assertClose("gather", gathered, out.toArray(), 0, 0);
                k.elementwise().scatterAddRows(TestData.tensor(arena, dOut), ids, count, grad, tableRows, cols);
                // each element sums at most count terms of magnitude at most 1
                TestData.assertClose("scatter-add", dTable, grad.toArray(), 2.0 * count * count * TestData.EPS, 0);
            }
        }
    }

    @Example
    void idsOutsideTheTableAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor table = FloatTensor.allocate(arena, 4, 3), out = FloatTensor.allocate(arena, 2, 3);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> UNDER_TEST.elementwise().gatherRows(table, 4, new int[] {1, 4}, 2, out, 3));
            assertEquals(true, e.getMessage().contains("id 4 at position 1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().scatterAddRows(out, new int[] {-1, 0}, 2, table, 4, 3));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().gatherRows(table, 4, new int[] {1}, 2, out, 3));
        }
    }

    @Example
    void maxSeesNaN() {
        try (Arena arena = Arena.ofConfined()) {
            float[] x = new float[100];
            x[77] = Float.NaN;
            assertEquals(Float.NaN, UNDER_TEST.elementwise().max(TestData.tensor(arena, x), 100));
            assertEquals(Float.NEGATIVE_INFINITY, UNDER_TEST.elementwise().max(TestData.tensor(arena, x), 0));
        }
    }

    /** Up to 1.5 M elements: two threads take part from 32 chunks (2^19 elements) on. */
    @Property(tries = 10)
    void reductionsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 1_500_000) int n, @ForAll long seed) {
        float[] x = TestData.uniform(new Random(seed), n, 5f);
        try (Arena arena = Arena.ofShared()) {
            FloatTensor tx = TestData.tensor(arena, x);
            Kernels one = Kernels.withThreads(1), two = Kernels.withThreads(2);
            assertEquals(one.elementwise().sum(tx, n), two.elementwise().sum(tx, n));
            assertEquals(one.elementwise().dot(tx, tx, n), two.elementwise().dot(tx, tx, n));
            assertEquals(one.elementwise().sumOfSquares(tx, n), two.elementwise().sumOfSquares(tx, n));
            assertEquals(one.elementwise().max(tx, n), two.elementwise().max(tx, n));
        }
    }

    @Example
    void badArgumentsAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 10), y = FloatTensor.allocate(arena, 5);
            var e = assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().add(x, y, x, 10));
            assertEquals(true, e.getMessage().contains("[5]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().axpy(1f, x, x, 10));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().sum(x, -1));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().dot(x, y, 6));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.elementwise().scale(x.view(0, 6), 2f, x.view(4, 6), 6));
        }
    }
}
