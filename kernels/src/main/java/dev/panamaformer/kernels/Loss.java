package dev.panamaformer.kernels;

import java.lang.foreign.ValueLayout;

/** Log-softmax with negative log-likelihood over a (rows, vocab) matrix of logits. */
public final class Loss {
    private final SoftmaxKernel kernel;
    private final Parallel parallel;

    Loss(SoftmaxKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /** {@code y = x - log(sum(exp(x)))} over the last dimension, sizes read from the shapes; y may be x itself. */
    public void logSoftmax(FloatTensor x, FloatTensor y) {
        int rows = Checks.rows(x, "logSoftmax", "x");
        Checks.sameShape("logSoftmax", x, "x", y, "y");
        logSoftmax(x, y, rows, Checks.cols(x));
    }

    /**
     * As {@link #nllForward(FloatTensor, FloatTensor, int[], int, int, int)}, the sizes read from
     * the shapes: logits (rows, vocabulary), logProbs alike, one target per row.
     */
    public double nllForward(FloatTensor logits, FloatTensor logProbs, int[] targets, int ignoreIndex) {
        int rows = Checks.rows(logits, "nllForward", "logits");
        Checks.sameShape("nllForward", logits, "logits", logProbs, "logProbs");
        if (targets == null || targets.length != rows) {
            throw new IllegalArgumentException("nllForward: " + (targets == null ? "no targets" : targets.length + " targets")
                    + " for logits of shape " + java.util.Arrays.toString(logits.shape()) + ": one per row, " + rows);
        }
        return nllForward(logits, logProbs, targets, ignoreIndex, rows, Checks.cols(logits));
    }

    /** {@code y = x - log(sum(exp(x)))} per row; y may be x itself. */
    public void logSoftmax(FloatTensor x, FloatTensor y, int rows, int cols) {
        Checks.rowsCols("logSoftmax", rows, cols);
        Checks.matrix(x, "logSoftmax", "x", rows, cols);
        Checks.matrix(y, "logSoftmax", "y", rows, cols);
        Checks.sameOrDisjoint(x, "x", y, "y");
        Parallel par = parallel.over(x, y);
        if (par.parts(rows, cols) == 1) {
            kernel.logForward(x.segment(), y.segment(), 0, rows, cols);
        } else {
            par.forRange(rows, cols, (from, to) ->
                    kernel.logForward(x.segment(), y.segment(), from, to, cols));
        }
    }

    /**
     * Writes {@code logProbs = logSoftmax(logits)} and returns
     * {@code sum over rows r with targets[r] != ignoreIndex of -logProbs[r, targets[r]]},
     * summed in row order in double precision.
     */
    public double nllForward(FloatTensor logits, FloatTensor logProbs, int[] targets, int ignoreIndex, int rows, int vocab) {
        checkTargets("nllForward", targets, ignoreIndex, rows, vocab);
        logSoftmax(logits, logProbs, rows, vocab);
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] != ignoreIndex) {
                loss -= logProbs.segment().getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * vocab + targets[r]);
            }
        }
        return loss;
    }

    /**
     * {@code dLogits += scale * d/dlogits of the loss above}: per row that is not ignored,
     * {@code scale * (softmax(logits) - onehot(target))}.
     */
    public void nllBackward(FloatTensor logProbs, int[] targets, int ignoreIndex, float scale, FloatTensor dLogits,
                            int rows, int vocab) {
        checkTargets("nllBackward", targets, ignoreIndex, rows, vocab);
        Checks.matrix(logProbs, "nllBackward", "logProbs", rows, vocab);
        Checks.matrix(dLogits, "nllBackward", "dLogits", rows, vocab);
        Checks.disjoint(logProbs, "logProbs", dLogits, "dLogits");
        Parallel par = parallel.over(logProbs, dLogits);
        if (par.parts(rows, vocab) == 1) {
            kernel.nllBackward(logProbs.segment(), targets, ignoreIndex, scale, dLogits.segment(), 0, rows, vocab);
        } else {
            par.forRange(rows, vocab, (from, to) ->
                    kernel.nllBackward(logProbs.segment(), targets, ignoreIndex, scale, dLogits.segment(), from, to,
                            vocab));
        }
    }

    private static void checkTargets(String op, int[] targets, int ignoreIndex, int rows, int vocab) {
        Checks.rowsCols(op, rows, vocab);
        if (targets == null || targets.length < rows) {
            throw new IllegalArgumentException(op + ": " + rows + " rows need " + rows + " targets, got "
                    + (targets == null ? "null" : targets.length));
        }
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t != ignoreIndex && (t < 0 || t >= vocab)) {
                throw new IllegalArgumentException(op + ": target " + t + " at row " + r + " is outside the vocabulary [0, "
                        + vocab + ") and is not the ignored index " + ignoreIndex);
            }
        }
    }
}
