package dev.panamaformer.model;

/**
 * Position ids for decoding a model trained on {@link Batch}es with explicit ones: token j of
 * source i is at {@code source[i][j]} (null: j), and source i's decoder input at step t at
 * {@code targetStart[i] + t} (null: t). Checked when a session starts: one id per token, each in
 * [0, max positions), the last step included.
 *
 * @param source      per source, one id per token, or null
 * @param targetStart per source, the id of the decoder's first input (the start token), or null
 */
public record PositionIds(int[][] source, int[] targetStart) {
    /** Copies the arrays: a caller that reuses its own cannot change ids between the checks and their use. */
    public PositionIds {
        if (source != null) {
            source = source.clone();
            for (int i = 0; i < source.length; i++) {
                source[i] = source[i] == null ? null : source[i].clone();
            }
        }
        targetStart = targetStart == null ? null : targetStart.clone();
    }

    /** Every token at its place in its sequence: what a model trained without explicit ids expects. */
    public static final PositionIds SEQUENTIAL = new PositionIds(null, null);

    /**
     * (B, S) ids of {@code sources} padded to {@code s}, or null. Padding is at id 0: it is masked
     * as a key and its own rows are never read, and 0 is inside every table.
     */
    int[] padded(int[][] sources, int s) {
        if (source == null) {
            return null;
        }
        if (source.length != sources.length) {
            throw new IllegalArgumentException(source.length + " source position rows for " + sources.length + " sources");
        }
        int[] ids = new int[sources.length * s];
        for (int b = 0; b < sources.length; b++) {
            if (source[b] == null || source[b].length != sources[b].length) {
                throw new IllegalArgumentException("source " + b + " has " + sources[b].length + " tokens but "
                        + (source[b] == null ? "no" : Integer.toString(source[b].length)) + " position ids");
            }
            for (int j = 0; j < s; j++) {
                ids[b * s + j] = j < source[b].length ? source[b][j] : 0;
            }
        }
        return ids;
    }

    /**
     * (B, T) ids of the decoder's inputs for {@code t} steps, {@code targetStart[i] + j} at
     * (i, j), as a {@link Batch}'s {@code tgtPositions}; null where every target starts at 0.
     */
    public int[] target(int t) {
        if (targetStart == null) {
            return null;
        }
        int[] ids = new int[targetStart.length * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = targetStart[i / t] + i % t;
        }
        return ids;
    }

    /** Throws an exception unless {@code targetStart} (if any) has one id per source and leaves room for {@code capacity} steps. */
    void checkTarget(int sources, int capacity, int maxPositions) {
        if (targetStart == null) {
            return;
        }
        if (targetStart.length != sources) {
            throw new IllegalArgumentException(targetStart.length + " target start positions for " + sources + " sources");
        }
        for (int b = 0; b < sources; b++) {
            if (targetStart[b] < 0 || (long) targetStart[b] + capacity > maxPositions) {
                throw new IllegalArgumentException("source " + b + "'s target starts at position " + targetStart[b] + ": "
                        + capacity + " steps from there leave the model's positions [0, " + maxPositions + ")");
            }
        }
    }
}
