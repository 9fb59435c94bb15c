package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/** {@code y = x Wᵀ + b}, W stored (out, in) as PyTorch's nn.Linear. */
final class Linear {
    final Parameter weight; // (out, in)
    final Parameter bias;   // (out)
    final int in;
    final int out;

    Linear(Parameters params, String name, int in, int out) {
        this.in = in;
        this.out = out;
        this.weight = params.create(name + ".weight", Parameter.Init.XAVIER, out, in);
        this.bias = params.create(name + ".bias", Parameter.Init.ZEROS, out);
    }

    /** y (rows, out) = x (rows, in) Wᵀ + b. */
    void forward(Kernels k, FloatTensor x, FloatTensor y, int rows) {
        k.matmul().gemm(false, true, rows, out, in, 1f, x, weight.value(), 0f, y);
        k.matmul().addBias(y, bias.value(), rows, out);
    }

    /**
     * dW += dyᵀ x, db += column sums of dy, and dx += dy W when dx is not null, or dx = dy W when
     * {@code overwriteDx} (dx holds nothing of this pass yet). A product that adds goes through
     * the GEMM's tile buffer and reads C back; one that stores (beta 0) writes C straight from the
     * registers, so each product that is the first to write its C, and dW when the trainer has just
     * zeroed it ({@link Parameter#takeZeroGrad()}), stores: the same bits (x + 0 = x), one pass
     * over C fewer.
     */
    void backward(Kernels k, FloatTensor x, FloatTensor dy, FloatTensor dx, int rows, boolean overwriteDx) {
        k.matmul().gemm(true, false, out, in, rows, 1f, dy, x, weight.takeZeroGrad() ? 0f : 1f, weight.grad());
        k.matmul().biasGrad(dy, bias.grad(), rows, out);
        if (dx != null) {
            k.matmul().gemm(false, false, rows, in, out, 1f, dy, weight.value(), overwriteDx ? 0f : 1f, dx);
        }
    }
}
