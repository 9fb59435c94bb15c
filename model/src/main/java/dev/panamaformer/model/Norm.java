package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/**
 * LayerNorm over the hidden dimension, with gain and bias. The layer holds its weights only; the
 * statistics a forward pass saves for its backward ({@link Statistics}) belong to the pass, so
 * one layer serves any number of passes and decoding sessions at once.
 */
final class Norm {
    final Parameter gamma; // (C), PyTorch's "weight"
    final Parameter beta;  // (C), PyTorch's "bias"
    private final int width;
    private final float eps;

    /** Per row: the mean and 1 / sqrt(var + eps), saved by forward for backward. */
    record Statistics(FloatTensor mean, FloatTensor rstd) {
    }

    Norm(Parameters params, String name, int width, float eps) {
        this.width = width;
        this.eps = eps;
        this.gamma = params.create(name + ".weight", Parameter.Init.ONES, width);
        this.beta = params.create(name + ".bias", Parameter.Init.ZEROS, width);
    }

    /** A training pass's statistics for {@code rows} rows. */
    static Statistics statistics(Workspace ws, String name, int rows) {
        return new Statistics(ws.activation(name + ".mean", rows), ws.activation(name + ".rstd", rows));
    }

    /** y = LN(x) over {@code rows} rows; their statistics into {@code s} (a pass's, or a decoding session's scratch). */
    void forward(Kernels k, FloatTensor x, FloatTensor y, int rows, Statistics s) {
        forward(k, x, y, rows, s.mean(), s.rstd());
    }

    void forward(Kernels k, FloatTensor x, FloatTensor y, int rows, FloatTensor mean, FloatTensor rstd) {
        k.layerNorm().forward(x, gamma.value(), beta.value(), y, mean, rstd, rows, width, eps);
    }

    /** dx += dL/dx, and the weights' gradients, from dy and the statistics of the forward. */
    void backward(Kernels k, FloatTensor x, FloatTensor dy, FloatTensor dx, int rows, Statistics s) {
        k.layerNorm().backward(x, gamma.value(), s.mean(), s.rstd(), dy, dx, gamma.grad(), beta.grad(), rows, width);
    }
}
