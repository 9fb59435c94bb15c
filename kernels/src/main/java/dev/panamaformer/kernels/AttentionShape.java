package dev.panamaformer.kernels;

/**
 * The sizes of one multi-head attention call: {@code batch} sequences of {@code queries} queries
 * attending to {@code keys} keys, in {@code heads} heads of width {@code headSize}.
 */
public record AttentionShape(int batch, int heads, int queries, int keys, int headSize) {
    public AttentionShape {
        if (batch < 0 || heads < 0 || queries < 0 || keys < 0 || headSize < 0) {
            throw new IllegalArgumentException("attention: negative size in " + describe(batch, heads, queries, keys, headSize));
        }
    }

    /** Rows of the (B, h, Tq, Tk) score tensor: one per (sequence, head, query). */
    long rows() {
        return (long) batch * heads * queries;
    }

    @Override
    public String toString() {
        return describe(batch, heads, queries, keys, headSize);
    }

    private static String describe(int batch, int heads, int queries, int keys, int headSize) {
        return "(batch " + batch + ", heads " + heads + ", queries " + queries + ", keys " + keys + ", head size " + headSize + ")";
    }
}
