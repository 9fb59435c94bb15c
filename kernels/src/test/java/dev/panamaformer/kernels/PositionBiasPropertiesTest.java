package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * {@link PositionBias} in the materialized path: the kernel against its scalar twin, the softmax
 * with a bias against the definition, the table's gradient across thread counts, and bad input.
 * Fused attention with a bias, and the gradient against finite differences, are in
 * {@link FusedAttentionPropertiesTest}.
 */
class PositionBiasPropertiesTest {

    /** Ids 0, 1, 2, ... from a random start, or random ones (repeats, gaps, beyond the span). */
    private static int[] ids(Random r, int n, int span, boolean ordered) {
        int[] ids = new int[n];
        int start = r.nextInt(2 * span + 3) - span;
        for (int i = 0; i < n; i++) {
            ids[i] = ordered ? start + i : r.nextInt(4 * span + 3) - 2 * span;
        }
        return ids;
    }

    @Property(tries = 300)
    @AddLifecycleHook(SimdOnly.class)
    void simdKernelHasTheScalarBits(@ForAll @IntRange(min = 0, max = 70) int n, @ForAll @IntRange(min = 1, max = 40) int span,
                                    @ForAll boolean ordered, @ForAll long seed) {
        Random r = new Random(seed);
        int width = 2 * span + 1, heads = 2, from = r.nextInt(3);
        int[] keyIds = ids(r, n + from, span, ordered);
        int queryId = r.nextInt(2 * span + 1) - span + (ordered && n > 0 ? keyIds[from] + n / 2 : 0);
        float[] table = TestData.uniform(r, heads * width, 1f), scores = TestData.uniform(r, n + 2, 3f);
        float[] ds = TestData.uniform(r, n + 2, 1f), dTable = TestData.uniform(r, heads * width, 1f);
        long center = (long) width + span;
        BiasKernel[] kernels = {TestData.UNDER_TEST.kernelSet().bias(), new ScalarBias()};
        float[][] added = new float[2][], grads = new float[2][];
        for (int k = 0; k < 2; k++) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = segment(arena, scores), t = segment(arena, table), d = segment(arena, ds), dt = segment(arena, dTable);
                kernels[k].add(s, 1, t, center, span, keyIds, from, queryId, n);
                kernels[k].grad(d, 1, 0.75f, dt, center, span, keyIds, from, queryId, n);
                added[k] = s.toArray(JAVA_FLOAT);
                grads[k] = dt.toArray(JAVA_FLOAT);
            }
        }
        assertArrayEquals(added[1], added[0], "add");
        assertArrayEquals(grads[1], grads[0], "grad");
        // and the scalar twin by the definition
        for (int j = 0; j < n; j++) {
            int e = width + span + Math.clamp(keyIds[from + j] - queryId, -span, span);
            assertEquals(scores[1 + j] + table[e], added[1][1 + j], "score " + j);
        }
    }

    @Property(tries = 60)
    void softmaxAddsTheBiasBeforeTheMask(@ForAll @IntRange(min = 1, max = 3) int batch, @ForAll @IntRange(min = 1, max = 3) int heads,
                                         @ForAll @IntRange(min = 1, max = 20) int tq, @ForAll @IntRange(min = 1, max = 40) int tk,
                                         @ForAll boolean causal, @ForAll boolean ordered, @ForAll boolean inPlace,
                                         @ForAll long seed) {
        Random r = new Random(seed);
        int span = 1 + r.nextInt(12), width = 2 * span + 1, rows = batch * heads * tq;
        int[] qIds = ids(r, batch * tq, span, ordered), kIds = ids(r, batch * tk, span, ordered);
        float[] table = TestData.uniform(r, heads * width, 2f), x = TestData.uniform(r, rows * tk, 3f);
        for (Kernels kn : new Kernels[] {TestData.UNDER_TEST, TestData.SCALAR, Kernels.withThreads(2)}) {
            try (Arena arena = Arena.ofShared()) {
                FloatTensor tx = TestData.tensor(arena, x), ty = inPlace ? tx : FloatTensor.allocate(arena, rows, tk);
                PositionBias bias = new PositionBias(FloatTensor.of(arena, table, heads, width), tq, qIds, kIds, tk);
                RowMask mask = (causal ? RowMask.causal(tq) : RowMask.NONE).withBias(bias);
                kn.softmax().forward(tx, ty, rows, tk, mask);
                float[] y = ty.toArray();
                if (!inPlace) {
                    assertArrayEquals(x, tx.toArray(), "x is left as it was");
                }
                for (int row = 0; row < rows; row++) {
                    int b = row / (heads * tq), h = row / tq % heads, i = row % tq;
                    int limit = causal ? ScalarSoftmax.causalLimit(row, tk, tq) : tk;
                    double max = Double.NEGATIVE_INFINITY;
                    double[] s = new double[tk];
                    for (int j = 0; j < limit; j++) {
                        int e = h * width + span + Math.clamp(kIds[b * tk + j] - qIds[b * tq + i], -span, span);
                        s[j] = (double) x[row * tk + j] + table[e];
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < limit; j++) {
                        sum += Math.exp(s[j] - max);
                    }
                    for (int j = 0; j < tk; j++) {
                        double expected = j < limit ? Math.exp(s[j] - max) / sum : 0;
                        assertEquals(expected, y[row * tk + j], 1e-6, kn.description() + ": row " + row + ", key " + j);
                    }
                }
            }
        }
    }

    @Property(tries = 30)
    void tableGradientDoesNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 3) int batch,
                                                 @ForAll @IntRange(min = 1, max = 5) int heads,
                                                 @ForAll @IntRange(min = 1, max = 30) int tq, @ForAll @IntRange(min = 1, max = 300) int tk,
                                                 @ForAll boolean ordered, @ForAll long seed) {
        Random r = new Random(seed);
        int span = 1 + r.nextInt(40), width = 2 * span + 1, rows = batch * heads * tq;
        int[] qIds = ids(r, batch * tq, span, ordered), kIds = ids(r, batch * tk, span, ordered);
        float[] dScores = TestData.uniform(r, rows * tk, 1f), dTable0 = TestData.uniform(r, heads * width, 1f);
        float[] one = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (Arena arena = Arena.ofShared()) {
                PositionBias bias = new PositionBias(FloatTensor.allocate(arena, heads, width), tq, qIds, kIds, tk);
                FloatTensor dTable = FloatTensor.of(arena, dTable0, heads, width);
                Kernels.withThreads(threads).attentionBias().backward(TestData.tensor(arena, dScores), rows, tk, bias, dTable);
                if (one == null) {
                    one = dTable.toArray();
                    // against the definition, summed in float in the order the kernels promise (per head: sequence,
                    // query, key), one rounding per term: the same bits
                    float[] expected = dTable0.clone();
                    for (int h = 0; h < heads; h++) {
                        for (int b = 0; b < batch; b++) {
                            for (int i = 0; i < tq; i++) {
                                int row = (b * heads + h) * tq + i;
                                for (int j = 0; j < tk; j++) {
                                    int e = h * width + span + Math.clamp(kIds[b * tk + j] - qIds[b * tq + i], -span, span);
                                    expected[e] += dScores[row * tk + j];
                                }
                            }
                        }
                    }
                    assertArrayEquals(expected, one, "dTable against the definition");
                } else {
                    assertArrayEquals(one, dTable.toArray(), threads + " threads");
                }
            }
        }
    }

    @Example
    void badBiasesAreRejectedWithWhatIsWrong() {
        try (Arena arena = Arena.ofConfined()) {
            int[] ids = new int[12];
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new PositionBias(FloatTensor.allocate(arena, 2, 4), 3, ids, ids, 3));
            assertTrue(e.getMessage().contains("(heads, 2 * span + 1)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new PositionBias(FloatTensor.allocate(arena, 0, 5), 3, ids, ids, 3));
            assertTrue(e.getMessage().contains("at least one head"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new PositionBias(FloatTensor.allocate(arena, 2, 5), 0, ids, ids, 3));
            assertTrue(e.getMessage().contains("queries"), e.getMessage());
            PositionBias bias = new PositionBias(FloatTensor.allocate(arena, 2, 5), 3, ids, ids, 3);
            FloatTensor scores = FloatTensor.allocate(arena, 30, 3);
            // 30 rows are 5 sequences of 2 heads x 3 queries: 15 query ids needed, 12 given
            e = assertThrows(IllegalArgumentException.class,
                    () -> TestData.UNDER_TEST.softmax().forward(scores, scores, 30, 3, RowMask.NONE.withBias(bias)));
            assertTrue(e.getMessage().contains("12 query ids for 5 sequences"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> TestData.UNDER_TEST.softmax().forward(scores, scores, 8, 3, RowMask.NONE.withBias(bias)));
            assertTrue(e.getMessage().contains("not whole sequences"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.attentionBias().backward(scores, 6, 3, bias,
                    FloatTensor.allocate(arena, 2, 7)));
            assertTrue(e.getMessage().contains("dTable"), e.getMessage());
            AttentionShape shape = new AttentionShape(1, 3, 3, 3, 2);
            FloatTensor t = FloatTensor.allocate(arena, 3, 6), o = FloatTensor.allocate(arena, 3, 6);
            FloatTensor lse = FloatTensor.allocate(arena, 9);
            MatrixBatch m = new MatrixBatch(t, 0, 6, 18, 2), out = new MatrixBatch(o, 0, 6, 18, 2);
            e = assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.fusedAttention().forward(shape, 1f, m, m, m,
                    RowMask.NONE.withBias(bias), 0f, 1, out, lse));
            assertTrue(e.getMessage().contains("2 heads, the scores 3"), e.getMessage());
            FloatTensor d1 = FloatTensor.allocate(arena, 3, 6), d2 = FloatTensor.allocate(arena, 3, 6), d3 = FloatTensor.allocate(arena, 3, 6);
            FloatTensor dTable = FloatTensor.allocate(arena, 3, 5);
            e = assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.fusedAttention().backward(shape, 1f, m, m, m,
                    RowMask.NONE, 0f, 1, out, lse, out, new MatrixBatch(d1, 0, 6, 18, 2), new MatrixBatch(d2, 0, 6, 18, 2),
                    new MatrixBatch(d3, 0, 6, 18, 2), dTable));
            assertTrue(e.getMessage().contains("no position bias"), e.getMessage());
            PositionBias threeHeads = new PositionBias(FloatTensor.allocate(arena, 3, 5), 3, ids, ids, 3);
            e = assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.fusedAttention().backward(shape, 1e-39f, m, m,
                    m, RowMask.NONE.withBias(threeHeads), 0f, 1, out, lse, out, new MatrixBatch(d1, 0, 6, 18, 2),
                    new MatrixBatch(d2, 0, 6, 18, 2), new MatrixBatch(d3, 0, 6, 18, 2), dTable));
            assertTrue(e.getMessage().contains("1 / scale"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> TestData.UNDER_TEST.fusedAttention().backward(shape, 1f, m, m, m,
                    RowMask.NONE.withBias(new PositionBias(d1.view(0, 3, 5), 3, ids, ids, 3)), 0f, 1, out, lse, out,
                    new MatrixBatch(d1, 0, 6, 18, 2), new MatrixBatch(d2, 0, 6, 18, 2), new MatrixBatch(d3, 0, 6, 18, 2), null));
            assertTrue(e.getMessage().contains("position bias table") && e.getMessage().contains("dq"), e.getMessage());
        }
    }

    private static MemorySegment segment(Arena arena, float[] values) {
        MemorySegment s = arena.allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }
}
