package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Layer normalization over the last dimension of a (rows, cols) matrix; see {@link LayerNorm}. */
interface NormKernel {
    /**
     * {@code y = gamma * (x - mean) * rstd + beta} per row, with the population variance; saves
     * each row's mean and {@code rstd = 1 / sqrt(var + eps)} for the backward pass.
     */
    void forward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                 MemorySegment mean, MemorySegment rstd, int rowFrom, int rowTo, int cols, float eps);

    /** {@code dx +=} the gradient through the normalization, for rows {@code [rowFrom, rowTo)}. */
    void backwardInput(MemorySegment x, MemorySegment gamma, MemorySegment mean, MemorySegment rstd,
                       MemorySegment dy, MemorySegment dx, int rowFrom, int rowTo, int cols);

    /**
     * {@code dGamma[c] += sum_r dy * xhat} and {@code dBeta[c] += sum_r dy} for columns
     * {@code [colFrom, colTo)}, summing rows in ascending order.
     */
    void backwardParams(MemorySegment x, MemorySegment mean, MemorySegment rstd, MemorySegment dy,
                        MemorySegment dGamma, MemorySegment dBeta, int rows, int cols, int colFrom, int colTo);
}
