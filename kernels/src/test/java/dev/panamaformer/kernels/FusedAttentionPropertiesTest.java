package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

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

/**
 * Fused attention against the materialized reference: scores, softmax, dropout and products
 * by the scalar kernels, forward and backward. Tolerances are absolute, scaled by the largest
 * magnitude of the reference tensor (at least 1): 1e-5 for O and the log-sum-exp, 1e-4 for the
 * gradients.
 */
class FusedAttentionPropertiesTest {
    enum Masking { NONE, PADDING, CAUSAL, BOTH }

    /** Lengths from 1 to a few hundred, across the 96-query and 256-key blocks. */
    @Provide
    Arbitrary<Integer> lengths() {
        return Arbitraries.oneOf(Arbitraries.of(1, 2, 7, 95, 96, 97, 127, 128, 129, 255, 256, 257),
                Arbitraries.integers().between(1, 300));
    }

    /** Head sizes, most of them not a multiple of the lane count; 4 lanes is one register tile wide. */
    @Provide
    Arbitrary<Integer> headSizes() {
        int l = TestData.lanes();
        return Arbitraries.oneOf(Arbitraries.of(1, 3, l - 1, l + 1, 64, 2 * l + 3, 4 * l, 4 * l + 1),
                Arbitraries.integers().between(1, 72));
    }

    /** Columns of a block product: around one vector and one register tile (4 vectors) of the lane count. */
    @Provide
    Arbitrary<Integer> productColumns() {
        int l = TestData.lanes();
        return Arbitraries.oneOf(Arbitraries.of(0, 1, l - 1, l, l + 1, 4 * l - 1, 4 * l, 4 * l + 1, 8 * l + 3),
                Arbitraries.integers().between(0, 9 * l));
    }

    /** One random problem: Q, K, V, dO and prior gradient contents, heads side by side as in a (B*T, h*d) layout. */
    record Problem(AttentionShape shape, float scale, float[] q, float[] k, float[] v, float[] dO,
                   float[] dq0, float[] dk0, float[] dv0, float[] mask, int rowsPerMaskRow, int causalPeriod,
                   float dropout, long seed, Bias bias) {

        static Problem random(long seed, int batch, int heads, int tq, int tk, int d, Masking masking, float dropout) {
            return random(seed, batch, heads, tq, tk, d, masking, dropout, false);
        }

        /** With {@code biased}, a random {@link Bias}: its ids and span from {@link Bias#random}. */
        static Problem random(long seed, int batch, int heads, int tq, int tk, int d, Masking masking, float dropout,
                              boolean biased) {
            Random r = new Random(seed);
            int c = heads * d;
            float[] mask = null;
            if (masking == Masking.PADDING || masking == Masking.BOTH) {
                mask = new float[batch * tk];
                for (int b = 0; b < batch; b++) {
                    // sequence 1 is all padding when there is one: its queries see nothing
                    boolean allPadding = b == 1 && r.nextBoolean();
                    for (int j = 0; j < tk; j++) {
                        mask[b * tk + j] = allPadding || r.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : 0f;
                    }
                }
            }
            int period = masking == Masking.CAUSAL || masking == Masking.BOTH ? tq : 0;
            return new Problem(new AttentionShape(batch, heads, tq, tk, d), (float) (1 / Math.sqrt(d)),
                    TestData.uniform(r, batch * tq * c, 2f), TestData.uniform(r, batch * tk * c, 2f),
                    TestData.uniform(r, batch * tk * c, 1f), TestData.uniform(r, batch * tq * c, 1f),
                    TestData.uniform(r, batch * tq * c, 1f), TestData.uniform(r, batch * tk * c, 1f),
                    TestData.uniform(r, batch * tk * c, 1f), mask, heads * tq, period, dropout, r.nextLong(),
                    biased ? Bias.random(r, batch, heads, tq, tk) : null);
        }

        int width() {
            return shape.heads() * shape.headSize();
        }

        MatrixBatch heads(FloatTensor t, int length) {
            return new MatrixBatch(t, 0, width(), (long) length * width(), shape.headSize());
        }

        RowMask rowMask(Arena arena) {
            RowMask m = mask == null ? RowMask.NONE : RowMask.additive(tensor(arena, mask), rowsPerMaskRow);
            m = causalPeriod > 0 ? m.andCausal(causalPeriod) : m;
            return bias == null ? m : m.withBias(bias.of(arena, shape));
        }

        float[] dTable0() {
            return bias == null ? new float[0] : bias.dTable0;
        }

        /** The (B, h, Tq, Tk) score matrices of a flat tensor. */
        MatrixBatch scores(FloatTensor t) {
            long tq = shape.queries(), tk = shape.keys();
            return new MatrixBatch(t, 0, shape.keys(), shape.heads() * tq * tk, tq * tk);
        }

        /** The reference: every step materialized, by the given (scalar) kernels. */
        Result materialized(Kernels kn) {
            int bs = shape.batch(), h = shape.heads(), tq = shape.queries(), tk = shape.keys(), d = shape.headSize();
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tQ = tensor(arena, q), tK = tensor(arena, k), tV = tensor(arena, v), tDO = tensor(arena, dO);
                FloatTensor tDq = tensor(arena, dq0), tDk = tensor(arena, dk0), tDv = tensor(arena, dv0);
                FloatTensor tO = FloatTensor.allocate(arena, Math.max(1, q.length));
                int n = bs * h * tq * tk;
                FloatTensor probs = FloatTensor.allocate(arena, Math.max(1, n)), dropped = FloatTensor.allocate(arena, Math.max(1, n));
                FloatTensor dDropped = FloatTensor.allocate(arena, Math.max(1, n)), dProbs = FloatTensor.allocate(arena, Math.max(1, n));
                FloatTensor dScores = FloatTensor.allocate(arena, Math.max(1, n));
                Matmul mm = kn.matmul();
                mm.gemmBatched(bs, h, false, true, tq, tk, d, scale, heads(tQ, tq), heads(tK, tk), 0f, scores(probs));
                kn.softmax().forward(probs, probs, bs * h * tq, tk, rowMask(arena));
                kn.dropout().forward(probs, dropped, n, dropout, seed);
                mm.gemmBatched(bs, h, false, false, tq, d, tk, 1f, scores(dropped), heads(tV, tk), 0f, heads(tO, tq));
                mm.gemmBatched(bs, h, false, true, tq, tk, d, 1f, heads(tDO, tq), heads(tV, tk), 0f, scores(dDropped));
                mm.gemmBatched(bs, h, true, false, tk, d, tq, 1f, scores(dropped), heads(tDO, tq), 1f, heads(tDv, tk));
                kn.dropout().backward(dDropped, dProbs, n, dropout, seed);
                kn.softmax().backward(probs, dProbs, dScores, bs * h * tq, tk);
                float[] dTable = dTable0();
                if (bias != null) {
                    FloatTensor tDt = FloatTensor.of(arena, dTable.clone(), h, dTable.length / h);
                    kn.attentionBias().backward(dScores, bs * h * tq, tk, rowMask(arena).bias(), tDt);
                    dTable = tDt.toArray();
                }
                mm.gemmBatched(bs, h, false, false, tq, d, tk, scale, scores(dScores), heads(tK, tk), 1f, heads(tDq, tq));
                mm.gemmBatched(bs, h, true, false, tk, d, tq, scale, scores(dScores), heads(tQ, tq), 1f, heads(tDk, tk));
                return new Result(part(tO, q.length), logSumExp(), part(tDq, q.length), part(tDk, k.length), part(tDv, v.length),
                        dTable);
            }
        }

        /** The visible scores of query i of sequence b and head hh by the definition, in double: scaled, biased, masked. */
        double[] scores(int b, int hh, int i) {
            int h = shape.heads(), tq = shape.queries(), tk = shape.keys(), d = shape.headSize(), c = width();
            int row = (b * h + hh) * tq + i;
            double[] s = new double[Math.max(0, ScalarSoftmax.causalLimit(row, tk, causalPeriod))];
            for (int j = 0; j < s.length; j++) {
                double dot = 0;
                for (int p = 0; p < d; p++) {
                    dot += (double) q[(b * tq + i) * c + hh * d + p] * k[(b * tk + j) * c + hh * d + p];
                }
                s[j] = dot * scale + (bias == null ? 0 : bias.at(hh, b, i, j, tq, tk))
                        + (mask == null ? 0 : mask[(row / rowsPerMaskRow) * tk + j]);
            }
            return s;
        }

        /** The log-sum-exp of every query's masked, scaled scores, in double. */
        float[] logSumExp() {
            int bs = shape.batch(), h = shape.heads(), tq = shape.queries();
            float[] lse = new float[bs * h * tq];
            for (int b = 0; b < bs; b++) {
                for (int hh = 0; hh < h; hh++) {
                    for (int i = 0; i < tq; i++) {
                        int row = (b * h + hh) * tq + i;
                        double[] s = scores(b, hh, i);
                        double max = Double.NEGATIVE_INFINITY;
                        for (double x : s) {
                            max = Math.max(max, x);
                        }
                        int limit = s.length;
                        double sum = 0;
                        for (int j = 0; j < limit; j++) {
                            sum += Math.exp(s[j] - max);
                        }
                        lse[row] = max == Double.NEGATIVE_INFINITY ? Float.NEGATIVE_INFINITY : (float) (max + Math.log(sum));
                    }
                }
            }
            return lse;
        }

        /** {@code sum(dO * O)} by the definition in double precision: the loss whose gradient dO is. */
        double outputDotDO() {
            int bs = shape.batch(), h = shape.heads(), tq = shape.queries(), tk = shape.keys(), d = shape.headSize(), c = width();
            double total = 0;
            for (int b = 0; b < bs; b++) {
                for (int hh = 0; hh < h; hh++) {
                    for (int i = 0; i < tq; i++) {
                        double[] s = scores(b, hh, i);
                        double max = Double.NEGATIVE_INFINITY;
                        for (double x : s) {
                            max = Math.max(max, x);
                        }
                        int limit = s.length;
                        if (max == Double.NEGATIVE_INFINITY) {
                            continue;
                        }
                        double sum = 0;
                        for (int j = 0; j < limit; j++) {
                            s[j] = Math.exp(s[j] - max);
                            sum += s[j];
                        }
                        for (int p = 0; p < d; p++) {
                            double o = 0;
                            for (int j = 0; j < limit; j++) {
                                o += s[j] / sum * v[(b * tk + j) * c + hh * d + p];
                            }
                            total += o * dO[(b * tq + i) * c + hh * d + p];
                        }
                    }
                }
            }
            return total;
        }

        Result fused(Kernels kn) {
            int tq = shape.queries(), tk = shape.keys();
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tQ = tensor(arena, q), tK = tensor(arena, k), tV = tensor(arena, v), tDO = tensor(arena, dO);
                FloatTensor tDq = tensor(arena, dq0), tDk = tensor(arena, dk0), tDv = tensor(arena, dv0);
                FloatTensor tO = FloatTensor.allocate(arena, Math.max(1, q.length));
                FloatTensor lse = FloatTensor.allocate(arena, Math.max(1, (int) shape.rows()));
                RowMask m = rowMask(arena);
                float[] dTable = dTable0();
                FloatTensor tDt = bias == null ? null : FloatTensor.of(arena, dTable.clone(), shape.heads(), dTable.length / shape.heads());
                FusedAttention fa = kn.fusedAttention();
                fa.forward(shape, scale, heads(tQ, tq), heads(tK, tk), heads(tV, tk), m, dropout, seed, heads(tO, tq), lse);
                fa.backward(shape, scale, heads(tQ, tq), heads(tK, tk), heads(tV, tk), m, dropout, seed, heads(tO, tq), lse,
                        heads(tDO, tq), heads(tDq, tq), heads(tDk, tk), heads(tDv, tk), tDt);
                return new Result(part(tO, q.length), part(lse, (int) shape.rows()), part(tDq, q.length), part(tDk, k.length),
                        part(tDv, v.length), tDt == null ? dTable : tDt.toArray());
            }
        }
    }

    /**
     * A position bias: a random (heads, 2 * span + 1) table, and ids for the queries and keys of
     * each sequence, either 0, 1, 2, ... from a random start (so the SIMD kernel's contiguous runs)
     * or random (repeats, gaps, distances beyond the span: the scalar fallback and the clamp).
     */
    record Bias(float[] table, int span, int[] queryIds, int[] keyIds, float[] dTable0) {
        static Bias random(Random r, int batch, int heads, int tq, int tk) {
            int span = 1 + r.nextInt(r.nextBoolean() ? 8 : Math.max(tq, tk) + 2);
            int[] qIds = new int[batch * tq], kIds = new int[batch * tk];
            boolean ordered = r.nextBoolean();
            for (int b = 0; b < batch; b++) {
                int start = r.nextInt(5);
                for (int i = 0; i < tq; i++) {
                    qIds[b * tq + i] = ordered ? start + i : r.nextInt(2 * span + 5);
                }
                for (int j = 0; j < tk; j++) {
                    kIds[b * tk + j] = ordered ? start + j : r.nextInt(2 * span + 5);
                }
            }
            return new Bias(TestData.uniform(r, heads * (2 * span + 1), 2f), span, qIds, kIds,
                    TestData.uniform(r, heads * (2 * span + 1), 1f));
        }

        PositionBias of(Arena arena, AttentionShape shape) {
            return new PositionBias(FloatTensor.of(arena, table, shape.heads(), 2 * span + 1), shape.queries(), queryIds, keyIds,
                    shape.keys());
        }

        /** The bias of head h, query i and key j of sequence b, by the definition. */
        float at(int h, int b, int i, int j, int tq, int tk) {
            int distance = Math.clamp(keyIds[b * tk + j] - queryIds[b * tq + i], -span, span);
            return table[h * (2 * span + 1) + span + distance];
        }
    }

    record Result(float[] o, float[] lse, float[] dq, float[] dk, float[] dv, float[] dTable) {
        void assertClose(String what, Result expected) {
            close(what + ": O", expected.o, o, 1e-5);
            close(what + ": log-sum-exp", expected.lse, lse, 1e-5);
            close(what + ": dQ", expected.dq, dq, 1e-4);
            close(what + ": dK", expected.dk, dk, 1e-4);
            close(what + ": dV", expected.dv, dv, 1e-4);
            close(what + ": dTable", expected.dTable, dTable, 1e-4);
        }

        void assertIdentical(String what, Result other) {
            assertArrayEquals(o, other.o, what + ": O");
            assertArrayEquals(lse, other.lse, what + ": log-sum-exp");
            assertArrayEquals(dq, other.dq, what + ": dQ");
            assertArrayEquals(dk, other.dk, what + ": dK");
            assertArrayEquals(dv, other.dv, what + ": dV");
            assertArrayEquals(dTable, other.dTable, what + ": dTable");
        }
    }

    private static void close(String what, float[] expected, float[] actual, double tolerance) {
        double scale = 1;
        for (float e : expected) {
            if (Float.isFinite(e)) {
                scale = Math.max(scale, Math.abs(e));
            }
        }
        double bound = tolerance * scale;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == actual[i]) {
                continue; // also -inf == -inf for a query that sees no key
            }
            if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " within " + bound);
            }
        }
    }

    private static FloatTensor tensor(Arena arena, float[] values) {
        return values.length == 0 ? FloatTensor.allocate(arena, 1) : TestData.tensor(arena, values);
    }

    private static float[] part(FloatTensor t, int n) {
        float[] all = t.toArray();
        return java.util.Arrays.copyOf(all, n);
    }

    @Property(tries = 60)
    void matchesTheMaterializedPath(@ForAll @IntRange(min = 1, max = 2) int batch, @ForAll @IntRange(min = 1, max = 3) int heads,
                                    @ForAll("lengths") int tq, @ForAll("lengths") int tk, @ForAll("headSizes") int d,
                                    @ForAll Masking masking, @ForAll boolean dropout, @ForAll boolean biased, @ForAll long seed) {
        Problem p = Problem.random(seed, batch, heads, tq, tk, d, masking, dropout ? 0.2f : 0f, biased);
        Result expected = p.materialized(TestData.SCALAR);
        p.fused(TestData.UNDER_TEST).assertClose(TestData.UNDER_TEST.description(), expected);
        p.fused(TestData.SCALAR).assertClose("scalar twin", expected);
    }

    /** Self-attention as the decoder has it: queries and keys of the same length, causal and padded. */
    @Property(tries = 30)
    void causalSelfAttentionMatches(@ForAll("lengths") int t, @ForAll @IntRange(min = 1, max = 72) int d, @ForAll long seed) {
        Problem p = Problem.random(seed, 2, 2, t, t, d, Masking.BOTH, 0.1f);
        p.fused(TestData.UNDER_TEST).assertClose(TestData.UNDER_TEST.description(), p.materialized(TestData.SCALAR));
    }

    /** Three and more key blocks of 256: the online rescale and the per-block sums across blocks. */
    @Example
    void manyKeyBlocksMatch() {
        int l = TestData.lanes();
        int[][] cases = {{97, 600, 4 * l + 1}, {513, 513, 64}, {5, 769, 17}};
        long seed = 11;
        for (int[] c : cases) {
            for (Masking masking : Masking.values()) {
                Problem p = Problem.random(seed++, 1, 2, c[0], c[1], c[2], masking, 0.1f, masking != Masking.NONE);
                p.fused(TestData.UNDER_TEST).assertClose(TestData.UNDER_TEST.description() + " " + c[0] + "x" + c[1] + "x" + c[2]
                        + " " + masking, p.materialized(TestData.SCALAR));
            }
        }
    }

    /**
     * The block product alone, SIMD kernel and scalar twin against a double-precision sum: every
     * edge of the register tile, A row-major and transposed, C set and added to. Operands sit in
     * segments of their exact size, so a read past an edge throws, and the padding columns of C
     * must keep their values.
     */
    @Property(tries = 300)
    void blockProductMatchesADoubleSum(@ForAll @IntRange(min = 0, max = 30) int m, @ForAll("productColumns") int n,
                                       @ForAll @IntRange(min = 0, max = 40) int k, @ForAll boolean transposedA,
                                       @ForAll boolean accumulate, @ForAll long seed) {
        Random r = new Random(seed);
        int pad = r.nextInt(3), lda = (transposedA ? m : k) + pad, ldb = n + pad, ldc = n + pad;
        float[] a = TestData.uniform(r, Math.max(0, (transposedA ? k : m) * lda - pad), 1f);
        float[] b = TestData.uniform(r, Math.max(0, k * ldb - pad), 1f);
        float[] c0 = TestData.uniform(r, Math.max(0, m * ldc - pad), 1f);
        int aRow = transposedA ? 1 : lda, aCol = transposedA ? lda : 1;
        for (AttentionKernel kernel : new AttentionKernel[] {TestData.UNDER_TEST.kernelSet().attention(), new ScalarAttention()}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment sa = segment(arena, a), sb = segment(arena, b), sc = segment(arena, c0);
                MemorySegment tile = arena.allocate((long) kernel.tileFloats() * Float.BYTES);
                kernel.product(m, n, k, sa, 0, aRow, aCol, sb, 0, ldb, accumulate, sc, 0, ldc, tile);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < ldc && i * ldc + j < c0.length; j++) {
                        float actual = sc.getAtIndex(JAVA_FLOAT, (long) i * ldc + j);
                        if (j >= n) {
                            assertEquals(c0[i * ldc + j], actual, kernel + ": padding C[" + i + "][" + j + "] changed");
                            continue;
                        }
                        double sum = accumulate ? c0[i * ldc + j] : 0, size = Math.abs(sum);
                        for (int p = 0; p < k; p++) {
                            double term = (double) a[i * aRow + p * aCol] * b[p * ldb + j];
                            sum += term;
                            size += Math.abs(term);
                        }
                        double bound = 1e-6 * (k + 2) * Math.max(size, 1e-30);
                        if (!(Math.abs(actual - sum) <= bound)) {
                            fail(kernel.getClass().getSimpleName() + ": C[" + i + "][" + j + "] of (" + m + ", " + n + ", " + k + ") is "
                                    + actual + ", expected " + sum + " within " + bound);
                        }
                    }
                }
            }
        }
    }

    private static MemorySegment segment(Arena arena, float[] values) {
        MemorySegment s = arena.allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }

    @Property(tries = 15)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 300) int tq, @ForAll @IntRange(min = 1, max = 300) int tk,
                                         @ForAll("headSizes") int d, @ForAll Masking masking, @ForAll boolean biased,
                                         @ForAll long seed) {
        Problem p = Problem.random(seed, 2, 3, tq, tk, d, masking, 0.1f, biased);
        Result one = p.fused(Kernels.withThreads(1));
        one.assertIdentical("2 threads", p.fused(Kernels.withThreads(2)));
        one.assertIdentical("3 threads", p.fused(Kernels.withThreads(3)));
    }

    /**
     * The bias table's gradient, fused and materialized, against central differences of
     * {@code sum(dO * O)} computed in double precision by the definition (no dropout).
     */
    @Property(tries = 25)
    void biasGradientMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 40) int tq, @ForAll @IntRange(min = 1, max = 40) int tk,
                                              @ForAll @IntRange(min = 1, max = 9) int d, @ForAll Masking masking,
                                              @ForAll long seed) {
        Problem p = Problem.random(seed, 2, 2, tq, tk, d, masking, 0f, true);
        float[] fused = p.fused(TestData.UNDER_TEST).dTable, materialized = p.materialized(TestData.SCALAR).dTable;
        float[] table = p.bias.table;
        double eps = 1e-3;
        for (int e = 0; e < table.length; e++) {
            float saved = table[e];
            table[e] = (float) (saved + eps);
            double plus = p.outputDotDO();
            table[e] = (float) (saved - eps);
            double minus = p.outputDotDO();
            table[e] = saved;
            // the perturbation as float actually stored, not eps as asked
            double expected = (plus - minus) / ((double) (float) (saved + eps) - (float) (saved - eps));
            double bound = 2e-3 * Math.max(1, Math.abs(expected));
            float f = fused[e] - p.bias.dTable0[e], m = materialized[e] - p.bias.dTable0[e];
            if (!(Math.abs(f - expected) <= bound) || !(Math.abs(m - expected) <= bound)) {
                fail("dTable[" + e + "]: fused " + f + ", materialized " + m + ", finite differences " + expected);
            }
        }
    }

    @Example
    void aQueryThatSeesNoKeyGetsZeroOutputAndNoGradient() {
        Problem p = Problem.random(7, 1, 1, 5, 3, 4, Masking.NONE, 0f);
        float[] allPadding = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Problem masked = new Problem(p.shape, p.scale, p.q, p.k, p.v, p.dO, p.dq0, p.dk0, p.dv0, allPadding, 5, 0, 0f, 1, null);
        Result r = masked.fused(TestData.UNDER_TEST);
        for (int i = 0; i < r.o.length; i++) {
            assertEquals(0f, r.o[i], "O[" + i + "]");
        }
        for (float lse : r.lse) {
            assertEquals(Float.NEGATIVE_INFINITY, lse);
        }
        assertArrayEquals(p.dq0, r.dq);
        assertArrayEquals(p.dk0, r.dk);
        assertArrayEquals(p.dv0, r.dv);
    }

    @Example
    void badArgumentsAreRejectedWithTheShapesInTheMessage() {
        FusedAttention fa = TestData.UNDER_TEST.fusedAttention();
        try (Arena arena = Arena.ofConfined()) {
            AttentionShape shape = new AttentionShape(2, 2, 3, 4, 5);
            FloatTensor q = FloatTensor.allocate(arena, 6, 10), k = FloatTensor.allocate(arena, 8, 10);
            FloatTensor v = FloatTensor.allocate(arena, 8, 10), o = FloatTensor.allocate(arena, 6, 10);
            FloatTensor lse = FloatTensor.allocate(arena, 12), shortK = FloatTensor.allocate(arena, 7, 10);
            MatrixBatch qb = new MatrixBatch(q, 0, 10, 30, 5), kb = new MatrixBatch(k, 0, 10, 40, 5);
            MatrixBatch vb = new MatrixBatch(v, 0, 10, 40, 5), ob = new MatrixBatch(o, 0, 10, 30, 5);
            fa.forward(shape, 0.5f, qb, kb, vb, RowMask.NONE, 0f, 1, ob, lse);
            var e = assertThrows(IllegalArgumentException.class, () -> fa.forward(shape, 0.5f, qb,
                    new MatrixBatch(shortK, 0, 10, 40, 5), vb, RowMask.NONE, 0f, 1, ob, lse));
            assertTrue(e.getMessage().contains("keys 4") && e.getMessage().contains("(4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fa.forward(shape, 0.5f, qb, kb, vb, RowMask.NONE, 0f, 1, ob,
                    FloatTensor.allocate(arena, 11)));
            assertTrue(e.getMessage().contains("lse"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fa.forward(shape, 0.5f, qb, kb, vb, RowMask.NONE, 0f, 1,
                    new MatrixBatch(q, 0, 10, 30, 5), lse));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fa.forward(shape, 0.5f, qb, kb, vb, RowMask.NONE, 1f, 1, ob, lse));
            assertTrue(e.getMessage().contains("dropout"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fa.forward(shape, 0.5f, qb, kb, vb,
                    RowMask.additive(FloatTensor.allocate(arena, 1, 4), 6), 0f, 1, ob, lse));
            assertTrue(e.getMessage().contains("additive mask"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fa.backward(shape, 0.5f, qb, kb, vb, RowMask.NONE, 0f, 1, ob, lse,
                    ob, qb, kb, vb));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new AttentionShape(1, -1, 2, 2, 2));
        }
    }

    @Example
    void aClosedArenaIsAnIllegalStateNotACrash() {
        Arena arena = Arena.ofConfined();
        FloatTensor t = FloatTensor.allocate(arena, 4, 4), lse = FloatTensor.allocate(arena, 4);
        FloatTensor o = FloatTensor.allocate(Arena.ofAuto(), 4, 4);
        arena.close();
        MatrixBatch b = new MatrixBatch(t, 0, 4, 16, 4);
        var e = assertThrows(IllegalStateException.class, () -> TestData.UNDER_TEST.fusedAttention().forward(
                new AttentionShape(1, 1, 4, 4, 4), 1f, b, b, b, RowMask.NONE, 0f, 1, new MatrixBatch(o, 0, 4, 16, 4), lse));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
