package dev.panamaformer.kernels;

/** Layer normalization over the last dimension of a (rows, cols) matrix, forward and backward. */
public final class LayerNorm {
    private final NormKernel kernel;
    private final Parallel parallel;

    LayerNorm(NormKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /**
     * As {@link #forward(FloatTensor, FloatTensor, FloatTensor, FloatTensor, FloatTensor, FloatTensor, int, int, float)}
     * over the last dimension, sizes read from the shapes: x and y (rows, cols), gamma and beta
     * (cols), mean and rstd (rows).
     */
    public void forward(FloatTensor x, FloatTensor gamma, FloatTensor beta, FloatTensor y, FloatTensor mean, FloatTensor rstd,
                        float eps) {
        int rows = Checks.rows(x, "layerNorm", "x"), cols = Checks.cols(x);
        Checks.sameShape("layerNorm", x, "x", y, "y");
        String perColumn = ", the last dimension of x " + java.util.Arrays.toString(x.shape());
        String perRow = ", one per row of x " + java.util.Arrays.toString(x.shape());
        Checks.vectorShape("layerNorm", gamma, "gamma", cols, perColumn);
        Checks.vectorShape("layerNorm", beta, "beta", cols, perColumn);
        Checks.vectorShape("layerNorm", mean, "mean", rows, perRow);
        Checks.vectorShape("layerNorm", rstd, "rstd", rows, perRow);
        forward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
    }

    /**
     * {@code y = gamma * (x - mean) / sqrt(var + eps) + beta} per row (population variance);
     * writes each row's mean and {@code 1 / sqrt(var + eps)} into {@code mean} and {@code rstd}
     * (rows), which {@link #backward} needs.
     */
    public void forward(FloatTensor x, FloatTensor gamma, FloatTensor beta, FloatTensor y,
                        FloatTensor mean, FloatTensor rstd, int rows, int cols, float eps) {
        Checks.rowsCols("layerNorm", rows, cols);
        Checks.matrix(x, "layerNorm", "x", rows, cols);
        Checks.matrix(y, "layerNorm", "y", rows, cols);
        Checks.vector(gamma, "layerNorm", "gamma", cols);
        Checks.vector(beta, "layerNorm", "beta", cols);
        Checks.vector(mean, "layerNorm", "mean", rows);
        Checks.vector(rstd, "layerNorm", "rstd", rows);
        Checks.sameOrDisjoint(x, "x", y, "y");
        if (!(eps > 0f)) {
            throw new IllegalArgumentException("layerNorm: eps must be positive, got " + eps);
        }
        Parallel par = parallel.over(x, gamma, beta, y).over(mean, rstd);
        if (par.parts(rows, cols) == 1) {
            kernel.forward(x.segment(), gamma.segment(), beta.segment(), y.segment(), mean.segment(), rstd.segment(),
                    0, rows, cols, eps);
        } else {
            par.forRange(rows, cols, (from, to) ->
                    kernel.forward(x.segment(), gamma.segment(), beta.segment(), y.segment(), mean.segment(),
                            rstd.segment(), from, to, cols, eps));
        }
    }

    /** {@code dx += dL/dx}, {@code dGamma += dL/dgamma}, {@code dBeta += dL/dbeta} from {@code dy = dL/dy}. */
    public void backward(FloatTensor x, FloatTensor gamma, FloatTensor mean, FloatTensor rstd, FloatTensor dy,
                         FloatTensor dx, FloatTensor dGamma, FloatTensor dBeta, int rows, int cols) {
        Checks.rowsCols("layerNorm backward", rows, cols);
        Checks.matrix(x, "layerNorm backward", "x", rows, cols);
        Checks.matrix(dy, "layerNorm backward", "dy", rows, cols);
        Checks.matrix(dx, "layerNorm backward", "dx", rows, cols);
        Checks.vector(gamma, "layerNorm backward", "gamma", cols);
        Checks.vector(mean, "layerNorm backward", "mean", rows);
        Checks.vector(rstd, "layerNorm backward", "rstd", rows);
        Checks.vector(dGamma, "layerNorm backward", "dGamma", cols);
        Checks.vector(dBeta, "layerNorm backward", "dBeta", cols);
        Checks.disjoint(x, "x", dx, "dx");
        Checks.disjoint(dGamma, "dGamma", dBeta, "dBeta");
        Parallel par = parallel.over(x, gamma, mean, rstd).over(dy, dx, dGamma, dBeta);
        if (par.parts(rows, cols) == 1) {
            kernel.backwardInput(x.segment(), gamma.segment(), mean.segment(), rstd.segment(), dy.segment(),
                    dx.segment(), 0, rows, cols);
        } else {
            par.forRange(rows, cols, (from, to) ->
                    kernel.backwardInput(x.segment(), gamma.segment(), mean.segment(), rstd.segment(), dy.segment(),
                            dx.segment(), from, to, cols));
        }
        // parameter gradients sum over rows: split by columns, so every column sums its rows in order
        if (par.parts(cols, rows) == 1) {
            kernel.backwardParams(x.segment(), mean.segment(), rstd.segment(), dy.segment(), dGamma.segment(),
                    dBeta.segment(), rows, cols, 0, cols);
        } else {
            par.forRange(cols, rows, (from, to) ->
                    kernel.backwardParams(x.segment(), mean.segment(), rstd.segment(), dy.segment(),
                            dGamma.segment(), dBeta.segment(), rows, cols, from, to));
        }
    }
}
