package dev.panamaformer.model;

/**
 * The position id of each row of a pass (sequences laid end to end): by default a token's place
 * in its sequence, or ids the caller gives (a task may number tokens by meaning, e.g. a digit by
 * its significance). {@link #bound} is one past the largest, what position tables must cover.
 * The position embeddings and RoPE of one stream read the same instance.
 */
final class RowPositions {
    final int[] ids;
    int bound;
    /**
     * A decoding session's own tables where it scales positions ({@link PositionScaling}), else
     * null: the absolute position rows of this stream's embeddings (learned or sinusoids, or
     * null for RoPE) and RoPE's angles (or null), each covering every id of the session.
     */
    ScaledPositions scaled;

    RowPositions(int rows) {
        ids = new int[rows];
    }

    /** Row r of {@code batch} sequences of {@code length} gets {@code explicit[r]}, or r % length where it is null. */
    void set(int[] explicit, int batch, int length) {
        int rows = batch * length, max = -1;
        for (int r = 0; r < rows; r++) {
            ids[r] = explicit == null ? r % length : explicit[r];
            max = Math.max(max, ids[r]);
        }
        bound = max + 1;
    }

    /** Row r (of {@code rows}) gets {@code start[r] + step}: each row's step of incremental decoding. */
    void shifted(int[] start, int step, int rows) {
        int max = -1;
        for (int r = 0; r < rows; r++) {
            ids[r] = start[r] + step;
            max = Math.max(max, ids[r]);
        }
        bound = max + 1;
    }

    /** Throws an exception naming the first of {@code ids} outside [0, {@code limit}). */
    static void check(String name, int[] ids, int length, int limit) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= limit) {
                throw new IllegalArgumentException(name + " position id " + ids[i] + " at (" + i / length + ", " + i % length
                        + ") is outside the model's positions [0, " + limit + ")");
            }
        }
    }
}
