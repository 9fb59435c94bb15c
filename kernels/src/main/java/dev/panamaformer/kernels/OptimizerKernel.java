package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Optimizer updates over {@code [from, to)}; see {@link Adam}. */
interface OptimizerKernel {
    /**
     * One Adam step, in PyTorch's order of operations:
     * {@code m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)}, where {@code bc = 1 - b^t}. Weight decay
     * is added to the gradient ({@code g += wd p}, Adam) or applied to the parameter
     * ({@code p *= 1 - lr wd}, AdamW, when {@code decoupled}).
     */
    void adam(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, long from, long to,
              float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
              float biasCorrection1, float biasCorrection2);
}
