package dev.panamaformer.kernels;

/**
 * Which scores of a (rows, cols) matrix take part in a row-wise softmax.
 *
 * <p>{@code additive}, when not null, is a (rows / rowsPerMaskRow, cols) matrix added to the
 * scores: row {@code r} uses mask row {@code r / rowsPerMaskRow} (e.g. a key padding mask of
 * 0 and -1e9 shared by all heads and queries of one sequence). With {@code causalPeriod > 0},
 * row {@code r} sees only columns {@code j <= r % causalPeriod + cols - causalPeriod}: rows come in
 * groups of {@code causalPeriod} queries whose last one sees every column. {@code bias}, when not
 * null, is added to the scores before the mask: a {@link PositionBias} by the distance between
 * each query's and key's position ids.
 */
public record RowMask(FloatTensor additive, int rowsPerMaskRow, int causalPeriod, PositionBias bias) {
    /** Every score takes part. */
    public static final RowMask NONE = new RowMask(null, 1, 0, null);

    /** A mask without a position bias. */
    public RowMask(FloatTensor additive, int rowsPerMaskRow, int causalPeriod) {
        this(additive, rowsPerMaskRow, causalPeriod, null);
    }

    public RowMask {
        if (rowsPerMaskRow < 1) {
            throw new IllegalArgumentException("rowsPerMaskRow must be at least 1, got " + rowsPerMaskRow);
        }
        if (causalPeriod < 0) {
            throw new IllegalArgumentException("causalPeriod must not be negative, got " + causalPeriod);
        }
    }

    /** Rows in groups of {@code period} queries, each seeing keys up to its own position. */
    public static RowMask causal(int period) {
        return new RowMask(null, 1, period);
    }

    /** An additive (rows / rowsPerMaskRow, cols) mask. */
    public static RowMask additive(FloatTensor mask, int rowsPerMaskRow) {
        if (mask == null) {
            throw new IllegalArgumentException("additive mask is null");
        }
        return new RowMask(mask, rowsPerMaskRow, 0);
    }

    /** This mask, also causal with the given period. */
    public RowMask andCausal(int period) {
        return new RowMask(additive, rowsPerMaskRow, period, bias);
    }

    /** This mask with {@code bias} added to the scores (null: none). */
    public RowMask withBias(PositionBias bias) {
        return new RowMask(additive, rowsPerMaskRow, causalPeriod, bias);
    }
}
