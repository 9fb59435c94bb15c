package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * An additive bias of attention scores by the distance between position ids, one row per head
 * (T5's relative attention bias, ALiBi): score {@code (b, h, i, j)} of a (B, heads, Tq, Tk)
 * score tensor, whose rows are laid out (B·heads·Tq, Tk), gets
 * {@code table[h, span + clamp(keyIds[b·keyStride + j] - queryIds[b·queries + i], -span, span)]},
 * where the table is (heads, 2·span + 1): distances from -span to span, those beyond clamped
 * to the ends.
 *
 * <p>It travels with a {@link RowMask} ({@link RowMask#withBias}): the softmax and fused
 * attention add it to the scores before their masks, and {@link AttentionBias#backward} and
 * fused attention's backward pass give the gradient of its table. The ids arrays are read at
 * each call, not copied: a caller may refill them between calls.
 *
 * @param table     (heads, 2·span + 1), read at each call
 * @param queries   Tq: query ids of sequence b start at {@code b * queries}
 * @param queryIds  the position id of each query row, at least B·Tq of them
 * @param keyIds    the position id of each key, sequence b's from {@code b * keyStride}
 * @param keyStride distance between two sequences' key ids: Tk, or a cache's capacity
 */
public record PositionBias(FloatTensor table, int queries, int[] queryIds, int[] keyIds, int keyStride) {
    public PositionBias {
        String op = "position bias";
        Checks.alive(table, op, "table");
        if (table.rank() != 2 || table.dim(0) < 1 || table.dim(1) % 2 == 0) {
            throw new IllegalArgumentException(op + ": table of shape " + java.util.Arrays.toString(table.shape())
                    + " is not (heads, 2 * span + 1) with at least one head");
        }
        if (queries < 1 || keyStride < 0) {
            throw new IllegalArgumentException(op + ": queries must be >= 1 and keyStride >= 0, got " + queries + " and "
                    + keyStride);
        }
        if (queryIds == null || keyIds == null) {
            throw new IllegalArgumentException(op + ": queryIds and keyIds must not be null");
        }
    }

    /** Rows of the table: one per head. */
    public int heads() {
        return table.dim(0);
    }

    /** The largest distance with a column of its own; larger ones share the end columns. */
    public int span() {
        return table.dim(1) / 2;
    }

    /** Throws an IllegalArgumentException unless this bias covers a (rows, keys) score matrix of {@code heads}-head rows. */
    void check(String op, long rows, int keys, int heads) {
        if (heads != heads()) {
            throw new IllegalArgumentException(op + ": position bias table of shape "
                    + java.util.Arrays.toString(table.shape()) + " has " + heads() + " heads, the scores " + heads);
        }
        if (rows % ((long) heads * queries) != 0) {
            throw new IllegalArgumentException(op + ": " + rows + " score rows are not whole sequences of " + heads + " heads x "
                    + queries + " queries");
        }
        long batch = rows / ((long) heads * queries);
        if (queryIds.length < batch * queries) {
            throw new IllegalArgumentException(op + ": " + queryIds.length + " query ids for " + batch + " sequences of " + queries
                    + " queries");
        }
        if (batch > 0 && keys > 0 && keyIds.length < (batch - 1) * keyStride + keys) {
            throw new IllegalArgumentException(op + ": " + keyIds.length + " key ids for " + batch + " sequences of " + keys
                    + " keys, " + keyStride + " apart");
        }
        Checks.alive(table, op, "position bias table");
    }

    /** Adds the bias to score rows {@code [rowFrom, rowTo)} of a (rows, keys) matrix laid out (B·heads·Tq, Tk). */
    void addTo(BiasKernel kernel, MemorySegment scores, int rowFrom, int rowTo, int keys) {
        int heads = heads(), span = span(), width = 2 * span + 1;
        MemorySegment t = table.segment();
        for (int r = rowFrom; r < rowTo; r++) {
            int b = r / (heads * queries), h = r / queries % heads, i = r % queries;
            kernel.add(scores, (long) r * keys, t, (long) h * width + span, span, keyIds, b * keyStride,
                    queryIds[b * queries + i], keys);
        }
    }

    /**
     * Adds the gradient of a (rows, keys) matrix of score gradients, times {@code factor}, to
     * {@code dTable} (of the table's shape) in rows {@code [headFrom, headTo)}: each head sums
     * its score rows in order of sequence, then query, then key.
     */
    void gradTo(BiasKernel kernel, MemorySegment dScores, long rows, int keys, float factor, MemorySegment dTable,
                int headFrom, int headTo) {
        int heads = heads(), span = span(), width = 2 * span + 1;
        long batch = rows / ((long) heads * queries);
        for (int h = headFrom; h < headTo; h++) {
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < queries; i++) {
                    long r = ((long) b * heads + h) * queries + i;
                    kernel.grad(dScores, r * keys, factor, dTable, (long) h * width + span, span, keyIds, b * keyStride,
                            queryIds[b * queries + i], keys);
                }
            }
        }
    }
}
