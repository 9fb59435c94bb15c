package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.EPS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

class MatmulPropertiesTest {

    @Provide
    Arbitrary<Integer> dims() {
        return TestData.sizes(70);
    }

    @Provide
    Arbitrary<Float> betas() {
        return Arbitraries.of(0f, 1f, 0.5f, -2f);
    }

    /** A GEMM problem in storage form, with padded leading dimensions and offsets. */
    record Problem(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                   float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {

        static Problem random(long seed, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int pad) {
            Random r = new Random(seed);
            int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
            int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
            int aOff = pad, bOff = 2 * pad, cOff = pad;
            float[] a = TestData.uniform(r, aOff + aRows * lda, 1f);
            float[] b = TestData.uniform(r, bOff + bRows * ldb, 1f);
            float[] c = TestData.uniform(r, cOff + m * ldc + pad, 1f);
            if (beta == 0f) {
                // C must not be read when beta is 0: NaN there would show up in the result
                java.util.Arrays.fill(c, Float.NaN);
            }
            return new Problem(ta, tb, m, n, k, alpha, beta, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        }

        float opA(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float opB(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        /** The whole C storage after a kernel's gemm. */
        float[] run(Kernels kernels) {
            // shared, so that worker threads may touch the memory
            try (Arena arena = Arena.ofShared()) {
                FloatTensor ta_ = TestData.tensor(arena, a), tb_ = TestData.tensor(arena, b), tc = TestData.tensor(arena, c);
                kernels.matmul().gemm(ta, tb, m, n, k, alpha, ta_, aOff, lda, tb_, bOff, ldb, beta, tc, cOff, ldc);
                return tc.toArray();
            }
        }

        /** Checks {@code out} against a double-precision product within the classic bound k·u·Σ|a||b|. */
        void check(String what, float[] out) {
            double[] expected = new double[c.length], bound = new double[c.length];
            for (int i = 0; i < c.length; i++) {
                expected[i] = c[i];
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0, abs = 0;
                    for (int p = 0; p < k; p++) {
                        double prod = (double) opA(i, p) * opB(p, j);
                        sum += prod;
                        abs += Math.abs(prod);
                    }
                    int ci = cOff + i * ldc + j;
                    double old = beta == 0f ? 0 : (double) beta * c[ci];
                    expected[ci] = alpha * sum + old;
                    bound[ci] = 2 * (k + 2) * EPS * (Math.abs(alpha) * abs + Math.abs(old)) + 1e-30;
                }
            }
            // elements outside the (m, n) window (padding, lda gaps) must be untouched
            for (int i = 0; i < c.length; i++) {
                if (bound[i] == 0 && Float.isNaN(c[i])) {
                    assertTrue(Float.isNaN(out[i]), what + ": padding element " + i + " changed");
                    expected[i] = 0;
                    out = out.clone();
                    out[i] = 0;
                }
            }
            TestData.assertWithin(what, expected, out, bound);
        }
    }

    @Property
    void everyFormMatchesDoublePrecision(@ForAll("dims") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                         @ForAll boolean ta, @ForAll boolean tb, @ForAll("betas") float beta,
                                         @ForAll @IntRange(max = 3) int pad, @ForAll long seed) {
        Problem p = Problem.random(seed, ta, tb, m, n, k, 1.5f, beta, pad);
        p.check(TestData.UNDER_TEST.description(), p.run(TestData.UNDER_TEST));
    }

    @Property
    void scalarMatchesDoublePrecision(@ForAll("dims") int m, @ForAll("dims") int n, @ForAll("dims") int k,
                                      @ForAll boolean ta, @ForAll boolean tb, @ForAll("betas") float beta,
                                      @ForAll @IntRange(max = 2) int pad, @ForAll long seed) {
        Problem p = Problem.random(seed, ta, tb, m, n, k, -0.75f, beta, pad);
        p.check("scalar", p.run(TestData.SCALAR));
    }

    /**
     * The kernel's unpacked path for small products ({@link MatmulKernel#gemmSmall}) and its
     * blocked path, called directly on the same problem, each against double precision: which
     * one {@link Matmul} picks depends on the shape, so both are checked at every shape here.
     */
    @Property(tries = 60)
    void smallAndBlockedPathsMatchDoublePrecision(@ForAll @IntRange(min = 1, max = 40) int m, @ForAll @IntRange(min = 1, max = 40) int n,
                                                  @ForAll @IntRange(min = 1, max = 80) int k, @ForAll boolean ta,
                                                  @ForAll boolean tb, @ForAll("betas") float beta,
                                                  @ForAll @IntRange(max = 2) int pad, @ForAll long seed) {
        Problem p = Problem.random(seed, ta, tb, m, n, k, 1.25f, beta, pad);
        MatmulKernel kernel = TestData.UNDER_TEST.kernelSet().matmul();
        for (boolean small : new boolean[] {true, false}) {
            try (Arena arena = Arena.ofConfined()) {
                FloatTensor a = TestData.tensor(arena, p.a()), b = TestData.tensor(arena, p.b()), c = TestData.tensor(arena, p.c());
                if (small) {
                    kernel.gemmSmall(ta, tb, m, n, k, p.alpha(), a.segment(), p.aOff(), p.lda(), b.segment(), p.bOff(), p.ldb(),
                            p.beta(), c.segment(), p.cOff(), p.ldc());
                } else {
                    kernel.gemm(ta, tb, m, n, k, p.alpha(), a.segment(), p.aOff(), p.lda(), b.segment(), p.bOff(), p.ldb(),
                            p.beta(), c.segment(), p.cOff(), p.ldc(), kernel.newWorkspace(arena));
                }
                p.check(TestData.UNDER_TEST.description() + (small ? ", small path" : ", blocked path"), c.toArray());
            }
        }
    }

    /**
     * The small path's A Bᵀ takes B's rows four at a time; each column of C still has the bits of
     * the same product computed alone (one row of B, n = 1).
     */
    @Property(tries = 40)
    void smallDotProductsHaveTheBitsOfOneColumnAlone(@ForAll @IntRange(min = 1, max = 9) int m,
                                                    @ForAll @IntRange(min = 1, max = 11) int n,
                                                    @ForAll @IntRange(min = 1, max = 70) int k, @ForAll long seed) {
        Random random = new Random(seed);
        MatmulKernel kernel = TestData.UNDER_TEST.kernelSet().matmul();
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor a = TestData.tensor(arena, TestData.uniform(random, m * k, 1f));
            FloatTensor b = TestData.tensor(arena, TestData.uniform(random, n * k, 1f));
            FloatTensor all = FloatTensor.allocate(arena, m * n), one = FloatTensor.allocate(arena, m);
            kernel.gemmSmall(false, true, m, n, k, 1.5f, a.segment(), 0, k, b.segment(), 0, k, 0f, all.segment(), 0, n);
            for (int j = 0; j < n; j++) {
                kernel.gemmSmall(false, true, m, 1, k, 1.5f, a.segment(), 0, k, b.segment(), (long) j * k, k, 0f, one.segment(), 0, 1);
                for (int i = 0; i < m; i++) {
                    assertEquals(Float.floatToRawIntBits(one.get(i)), Float.floatToRawIntBits(all.get((long) i * n + j)),
                            "C(" + i + ", " + j + ") of " + m + "x" + k + "x" + n);
                }
            }
        }
    }

    @Property(tries = 40)
    @AddLifecycleHook(SimdOnly.class)
    void simdMatchesScalarTwin(@ForAll("dims") int m, @ForAll("dims") int n, @ForAll @IntRange(min = 1, max = 300) int k,
                               @ForAll boolean ta, @ForAll boolean tb, @ForAll long seed) {
        Problem p = Problem.random(seed, ta, tb, m, n, k, 1f, 0.5f, 1);
        float[] simd = p.run(TestData.UNDER_TEST), scalar = p.run(TestData.SCALAR);
        double[] bound = new double[simd.length];
        for (int i = 0; i < bound.length; i++) {
            bound[i] = 4 * (k + 2) * EPS * (Math.sqrt(k) + 1) + 1e-30;
        }
        TestData.assertWithin("SIMD vs scalar", TestData.toDouble(scalar), simd, bound);
    }

    @Property(tries = 25)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 300) int m, @ForAll @IntRange(min = 1, max = 300) int n,
                                         @ForAll @IntRange(min = 1, max = 300) int k, @ForAll boolean ta, @ForAll boolean tb,
                                         @ForAll long seed) {
        Problem p = Problem.random(seed, ta, tb, m, n, k, 1f, 1f, 0);
        float[] one = p.run(Kernels.withThreads(1));
        assertArrayEquals(one, p.run(Kernels.withThreads(2)));
        assertArrayEquals(one, p.run(Kernels.withThreads(3)));
    }

    /** Sizes that cross every blocking boundary of the SIMD kernel (KC = 1024, MC = 80, NC = 1024 rounded down to whole panels; literals, as the class may not load here), and a last strip of A with 1 row. */
    @Example
    void blockBoundariesAreSeamless() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Problem p = Problem.random(7, ta, tb, 121, 1025, 1025, 1f, 0.25f, 1);
                p.check("blocked " + ta + "/" + tb, p.run(TestData.UNDER_TEST));
            }
        }
    }

    /**
     * Widths that leave B's packing, after its groups of four panels, one to three whole panels
     * and a short one, for panels of 16, 32 and 64 columns (5 NR + 3), both layouts of B; a depth
     * and height that leave a partial group of strips of A.
     */
    @Example
    void bPanelsInGroupsAndAloneAgree() {
        for (int n : new int[] {83, 163, 323}) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    Problem p = Problem.random(11 + n, ta, tb, 37, n, 67, 1f, 0f, 1);
                    p.check("n " + n + ", " + ta + "/" + tb, p.run(TestData.UNDER_TEST));
                }
            }
        }
    }

    /** Attention's layout: per (batch, head), slices of (B, T, C) tensors, against one gemm call per slice. */
    @Property(tries = 40)
    void batchedProductsEqualOneCallPerMatrix(@ForAll @IntRange(min = 1, max = 4) int batches, @ForAll @IntRange(min = 1, max = 3) int heads,
                                              @ForAll("dims") int t, @ForAll @IntRange(min = 1, max = 20) int dk,
                                              @ForAll boolean transB, @ForAll long seed) {
        Random r = new Random(seed);
        int c = heads * dk;
        float[] q = TestData.uniform(r, batches * t * c, 1f), kv = TestData.uniform(r, batches * t * c, 1f);
        float[] out0 = TestData.uniform(r, batches * heads * t * t, 1f);
        for (Kernels kernels : new Kernels[] {Kernels.withThreads(1), Kernels.withThreads(2)}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tq = TestData.tensor(arena, q), tk = TestData.tensor(arena, kv);
                FloatTensor batched = TestData.tensor(arena, out0), single = TestData.tensor(arena, out0);
                // scores(b, h) = Q(b, h) K(b, h)^T: (t, dk) x (dk, t); without transB, K's slice is read as (dk, t) with ld c
                int kRowsStored = transB ? t : dk;
                MatrixBatch a = new MatrixBatch(tq, 0, c, (long) t * c, dk);
                MatrixBatch b = new MatrixBatch(tk, 0, transB ? c : t, (long) t * c, dk);
                MatrixBatch out = new MatrixBatch(batched, 0, t, (long) heads * t * t, (long) t * t);
                if (!transB && (long) (kRowsStored - 1) * t + t > (long) t * c) {
                    return; // a (dk, t) slice with ld t does not fit this layout; nothing to compare
                }
                kernels.matmul().gemmBatched(batches, heads, false, transB, t, t, dk, 0.5f, a, b, 0.25f, out);
                for (int i = 0; i < batches; i++) {
                    for (int h = 0; h < heads; h++) {
                        kernels.matmul().gemm(false, transB, t, t, dk, 0.5f, tq, a.offset() + i * a.stride0() + h * a.stride1(), c,
                                tk, b.offset() + i * b.stride0() + h * b.stride1(), b.ld(), 0.25f, single,
                                out.offset() + i * out.stride0() + h * out.stride1(), t);
                    }
                }
                assertArrayEquals(single.toArray(), batched.toArray());
            }
        }
    }

    @Example
    void batchedProductsCheckTheLastMatrix() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 100), y = FloatTensor.allocate(arena, 100);
            MatrixBatch a = new MatrixBatch(x, 0, 5, 25, 5);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> TestData.UNDER_TEST.matmul().gemmBatched(4, 2, false, false, 5, 5, 5, 1f, a, a, 0f, new MatrixBatch(y, 0, 5, 25, 5)));
            assertTrue(e.getMessage().contains("last matrix"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new MatrixBatch(x, -1, 5, 25, 5));
        }
    }

    @Property
    void addBiasAddsToEveryRow(@ForAll("dims") int rows, @ForAll("dims") int cols, @ForAll long seed) {
        Random r = new Random(seed);
        float[] y = TestData.uniform(r, rows * cols, 1f), bias = TestData.uniform(r, cols, 1f);
        double[] expected = new double[y.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                expected[i * cols + j] = y[i * cols + j] + bias[j];
            }
        }
        for (Kernels kernels : new Kernels[] {TestData.UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofConfined()) {
                FloatTensor ty = TestData.tensor(arena, y);
                kernels.matmul().addBias(ty, TestData.tensor(arena, bias), rows, cols);
                TestData.assertClose(kernels.description(), expected, ty.toArray(), 0, EPS);
            }
        }
    }

    @Property
    void biasGradAddsColumnSums(@ForAll("dims") int rows, @ForAll("dims") int cols, @ForAll long seed) {
        Random r = new Random(seed);
        float[] dy = TestData.uniform(r, rows * cols, 1f), dBias = TestData.uniform(r, cols, 1f);
        double[] expected = new double[cols];
        for (int j = 0; j < cols; j++) {
            expected[j] = dBias[j];
            for (int i = 0; i < rows; i++) {
                expected[j] += dy[i * cols + j];
            }
        }
        for (Kernels kernels : new Kernels[] {TestData.UNDER_TEST, TestData.SCALAR}) {
            try (Arena arena = Arena.ofConfined()) {
                FloatTensor db = TestData.tensor(arena, dBias);
                kernels.matmul().biasGrad(TestData.tensor(arena, dy), db, rows, cols);
                TestData.assertClose(kernels.description(), expected, db.toArray(), (rows + 2) * EPS * (rows + 1), 0);
            }
        }
    }

    @Example
    void badShapesAreRejectedWithTheShapesInTheMessage() {
        Matmul mm = TestData.UNDER_TEST.matmul();
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor a = FloatTensor.allocate(arena, 4, 3), b = FloatTensor.allocate(arena, 3, 5);
            FloatTensor c = FloatTensor.allocate(arena, 4, 5), small = FloatTensor.allocate(arena, 4, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, 4, 5, 3, 1f, a, b, 0f, small));
            assertTrue(e.getMessage().contains("C (4, 5)") && e.getMessage().contains("[4, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, 4, 5, 4, 1f, a, b, 0f, c));
            assertTrue(e.getMessage().contains("op(A) (4, 4)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, -1, 5, 3, 1f, a, b, 0f, c));
            assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, 4, 5, 3, 1f, a, 0, 2, b, 0, 5, 0f, c, 0, 5));
            assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, 4, 5, 3, 1f, a, -1, 3, b, 0, 5, 0f, c, 0, 5));
            e = assertThrows(IllegalArgumentException.class, () -> mm.gemm(false, false, 2, 2, 2, 1f, c, 0, 5, b, 0, 5, 0f, c, 1, 5));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> mm.addBias(c, FloatTensor.allocate(arena, 3), 4, 5));
            assertThrows(IllegalArgumentException.class, () -> mm.biasGrad(c, b, 5, 5));
        }
    }

    @Example
    void confinedTensorsRunOnTheCallingThread() {
        Kernels two = Kernels.withThreads(2);
        try (Arena arena = Arena.ofConfined()) {
            float[] ones = new float[300 * 300];
            java.util.Arrays.fill(ones, 1f);
            FloatTensor a = FloatTensor.of(arena, ones, 300, 300), c = FloatTensor.allocate(arena, 300, 300);
            two.matmul().gemm(false, false, 300, 300, 300, 1f, a, a, 0f, c);
            assertTrue(c.get(0) == 300f && c.get(300 * 300 - 1) == 300f);
        }
    }

    @Example
    void aClosedArenaIsAnIllegalStateNotACrash() {
        Arena arena = Arena.ofConfined();
        FloatTensor a = FloatTensor.allocate(arena, 8, 8), b = FloatTensor.allocate(arena, 8, 8), c = FloatTensor.allocate(arena, 8, 8);
        arena.close();
        var e = assertThrows(IllegalStateException.class, () -> TestData.UNDER_TEST.matmul().gemm(false, false, 8, 8, 8, 1f, a, b, 0f, c));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
