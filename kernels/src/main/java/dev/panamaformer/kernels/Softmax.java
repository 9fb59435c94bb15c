package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Row-wise softmax of a (rows, cols) matrix, forward and backward; rows are split across threads. */
public final class Softmax {
    private final SoftmaxKernel kernel;
    private final BiasKernel bias;
    private final Parallel parallel;

    Softmax(SoftmaxKernel kernel, BiasKernel bias, Parallel parallel) {
        this.kernel = kernel;
        this.bias = bias;
        this.parallel = parallel;
    }

    /** {@code y = softmax(x)} over the last dimension, sizes read from the shapes; y (x's shape) may be x itself. */
    public void forward(FloatTensor x, FloatTensor y) {
        int rows = Checks.rows(x, "softmax", "x");
        Checks.sameShape("softmax", x, "x", y, "y");
        forward(x, y, rows, Checks.cols(x), RowMask.NONE);
    }

    /** {@code dx += y * (dy - sum(dy * y))} over the last dimension, sizes read from the shapes. */
    public void backward(FloatTensor y, FloatTensor dy, FloatTensor dx) {
        int rows = Checks.rows(y, "softmax backward", "y");
        Checks.sameShape("softmax backward", y, "y", dy, "dy");
        Checks.sameShape("softmax backward", y, "y", dx, "dx");
        backward(y, dy, dx, rows, Checks.cols(y));
    }

    /** {@code y = softmax(x)} per row; y may be x itself. */
    public void forward(FloatTensor x, FloatTensor y, int rows, int cols) {
        forward(x, y, rows, cols, RowMask.NONE);
    }

    /**
     * {@code y = softmax(x + bias + mask)} per row, with the online normalizer (max and sum in
     * one pass); masked-out columns get 0, and so does every column of a row with no score left.
     * A {@link RowMask#bias() position bias} is added to y's rows first (x is left as it was),
     * then the softmax runs in place on them.
     */
    public void forward(FloatTensor x, FloatTensor y, int rows, int cols, RowMask mask) {
        Checks.rowsCols("softmax", rows, cols);
        Checks.matrix(x, "softmax", "x", rows, cols);
        Checks.matrix(y, "softmax", "y", rows, cols);
        Checks.sameOrDisjoint(x, "x", y, "y");
        if (mask == null) {
            throw new IllegalArgumentException("softmax: mask is null; use RowMask.NONE");
        }
        FloatTensor add = mask.additive();
        if (add != null) {
            int maskRows = rows == 0 ? 0 : (rows - 1) / mask.rowsPerMaskRow() + 1;
            Checks.matrix(add, "softmax", "additive mask", maskRows, cols);
        }
        PositionBias pb = mask.bias();
        if (pb != null) {
            pb.check("softmax", rows, cols, pb.heads());
            Checks.disjoint(pb.table(), "position bias table", y, "softmax: y");
        }
        Parallel par = parallel.over(x, y, add).over(pb == null ? null : pb.table());
        if (par.parts(rows, cols) == 1) {
            forwardRows(x, y, 0, rows, cols, mask);
        } else {
            par.forRange(rows, cols, (from, to) -> forwardRows(x, y, from, to, cols, mask));
        }
    }

    private void forwardRows(FloatTensor x, FloatTensor y, int from, int to, int cols, RowMask mask) {
        MemorySegment add = mask.additive() == null ? null : mask.additive().segment();
        PositionBias pb = mask.bias();
        if (pb == null) {
            kernel.forward(x.segment(), y.segment(), from, to, cols, add, mask.rowsPerMaskRow(), mask.causalPeriod());
            return;
        }
        if (x != y) {
            MemorySegment.copy(x.segment(), (long) from * cols * Float.BYTES, y.segment(), (long) from * cols * Float.BYTES,
                    (long) (to - from) * cols * Float.BYTES);
        }
        pb.addTo(bias, y.segment(), from, to, cols);
        kernel.forward(y.segment(), y.segment(), from, to, cols, add, mask.rowsPerMaskRow(), mask.causalPeriod());
    }

    /** {@code dx += y * (dy - sum(dy * y))} per row, where y is the forward output. */
    public void backward(FloatTensor y, FloatTensor dy, FloatTensor dx, int rows, int cols) {
        Checks.rowsCols("softmax backward", rows, cols);
        Checks.matrix(y, "softmax backward", "y", rows, cols);
        Checks.matrix(dy, "softmax backward", "dy", rows, cols);
        Checks.matrix(dx, "softmax backward", "dx", rows, cols);
        Checks.disjoint(y, "y", dx, "dx");
        Checks.sameOrDisjoint(dy, "dy", dx, "dx");
        Parallel par = parallel.over(y, dy, dx);
        if (par.parts(rows, cols) == 1) {
            kernel.backward(y.segment(), dy.segment(), dx.segment(), 0, rows, cols);
        } else {
            par.forRange(rows, cols, (from, to) ->
                    kernel.backward(y.segment(), dy.segment(), dx.segment(), from, to, cols));
        }
    }
}
