package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Row-wise softmax and log-softmax, single-threaded over a range of rows of a (rows, cols)
 * matrix; {@link Softmax} and {@link Loss} check arguments and split rows across threads.
 *
 * <p>Masking, for row {@code r}: the additive {@code mask} row {@code r / rowsPerMaskRow} is added
 * to the scores (when {@code mask} is not null), and with {@code causalPeriod > 0} only columns
 * {@code j <= r % causalPeriod + cols - causalPeriod} take part; the others get probability 0.
 * A row with no finite score left gets probability 0 everywhere.
 */
interface SoftmaxKernel {
    /** {@code y = softmax(x + mask)}; max and normalizer in one pass over x, then one write pass. */
    void forward(MemorySegment x, MemorySegment y, int rowFrom, int rowTo, int cols,
                 MemorySegment mask, int rowsPerMaskRow, int causalPeriod);

    /** {@code dx += y * (dy - sum(dy * y))} per row. */
    void backward(MemorySegment y, MemorySegment dy, MemorySegment dx, int rowFrom, int rowTo, int cols);

    /** {@code y = x - log(sum(exp(x)))} per row, on the same one-pass normalizer. */
    void logForward(MemorySegment x, MemorySegment y, int rowFrom, int rowTo, int cols);

    /**
     * The gradient of {@code scale * sum over rows of -logProbs[r, targets[r]]} with respect to the
     * logits: {@code dLogits[r, :] += scale * (exp(logProbs[r, :]) - onehot(targets[r]))}; rows
     * whose target is {@code ignoreIndex} are left alone.
     */
    void nllBackward(MemorySegment logProbs, int[] targets, int ignoreIndex, float scale, MemorySegment dLogits,
                     int rowFrom, int rowTo, int cols);
}
