package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/** LayerNorm over the hidden dimension, with gain and bias. */
final class Norm {
    final Parameter gamma; // (C), PyTorch's "weight"
    final Parameter beta;  // (C), PyTorch's "bias"
    private final int width;
    private final float eps;
    private FloatTensor mean; // (rows): saved by forward for backward
    private FloatTensor rstd; // (rows): 1 / sqrt(var + eps), saved by forward for backward

    Norm(Parameters params, String name, int width, float eps) {
        this.width = width;
        this.eps = eps;
        this.gamma = params.create(name + ".weight", Parameter.Init.ONES, width);
        this.beta = params.create(name + ".bias", Parameter.Init.ZEROS, width);
    }

    void allocate(Workspace ws, String name, int rows) {
        mean = ws.activation(name + ".mean", rows);
        rstd = ws.activation(name + ".rstd", rows);
    }

    void forward(Kernels k, FloatTensor x, FloatTensor y, int rows) {
        k.layerNorm().forward(x, gamma.value(), beta.value(), y, mean, rstd, rows, width, eps);
    }

    /** For incremental decoding: y = LN(x) with the caller's scratch for mean and rstd (rows). */
    void apply(Kernels k, FloatTensor x, FloatTensor y, int rows, FloatTensor meanScratch, FloatTensor rstdScratch) {
        k.layerNorm().forward(x, gamma.value(), beta.value(), y, meanScratch, rstdScratch, rows, width, eps);
    }

    void backward(Kernels k, FloatTensor x, FloatTensor dy, FloatTensor dx, int rows) {
        k.layerNorm().backward(x, gamma.value(), mean, rstd, dy, dx, gamma.grad(), beta.grad(), rows, width);
    }
}
