package dev.panamaformer.kernels;

/**
 * The backward pass of a {@link PositionBias} in the materialized attention path: the gradient
 * of its table from the gradient of the scores it was added to. (The forward pass is the
 * softmax's: {@link Softmax#forward(FloatTensor, FloatTensor, int, int, RowMask)} with the bias
 * in its mask. Fused attention does both itself.) Heads are split across threads; each head sums
 * its scores in one fixed order, so the result does not depend on the thread count.
 */
public final class AttentionBias {
    private final BiasKernel kernel;
    private final Parallel parallel;

    AttentionBias(BiasKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /**
     * {@code dTable += } the gradient of the bias table given {@code dScores}, the (rows, keys)
     * gradient of the biased scores (rows laid out B·heads·Tq as the bias expects):
     * {@code dTable[h, e]} gains the sum of every score gradient of head h whose distance falls
     * on entry e. {@code dTable} has the table's shape.
     */
    public void backward(FloatTensor dScores, int rows, int keys, PositionBias bias, FloatTensor dTable) {
        String op = "position bias backward";
        if (bias == null) {
            throw new IllegalArgumentException(op + ": bias is null");
        }
        Checks.rowsCols(op, rows, keys);
        Checks.matrix(dScores, op, "dScores", rows, keys);
        bias.check(op, rows, keys, bias.heads());
        Checks.sameShape(op, bias.table(), "table", dTable, "dTable");
        Checks.disjoint(dScores, "dScores", dTable, op + ": dTable");
        int heads = bias.heads();
        long work = (long) rows / heads * keys;
        Parallel par = parallel.over(dScores, dTable);
        if (par.parts(heads, work) == 1) {
            bias.gradTo(kernel, dScores.segment(), rows, keys, 1f, dTable.segment(), 0, heads);
        } else {
            par.forRange(heads, work, (from, to) -> bias.gradTo(kernel, dScores.segment(), rows, keys, 1f, dTable.segment(),
                    from, to));
        }
    }
}
