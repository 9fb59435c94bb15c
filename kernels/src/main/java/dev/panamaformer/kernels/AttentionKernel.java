package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The steps of {@link BlockedAttention} on blocks small enough to stay in cache: products of a
 * block of queries with a block of keys or values, and row-wise softmax steps on one row of a
 * block of scores. Single-threaded; offsets, strides and lengths count floats.
 *
 * <p>Dropout ({@link DropoutKernel#apply}) keeps score {@code j} of a row iff
 * {@code keepBits(seed, index + j) >= threshold}, where {@code index} is the flat position of the
 * row's first score in the (B, h, Tq, Tk) probabilities the materialized path would hold, so both
 * paths drop the same elements; {@link #scoreGrad} reads which were kept from the dropped row.
 * {@code threshold == 0} keeps everything. Scaling, zeroing and dot products of rows are
 * {@link ElementwiseKernel}'s.
 */
interface AttentionKernel {
    /**
     * {@code C = A B}, or {@code C += A B} when {@code accumulate}, for an (m, k)
     * matrix A of any layout, element (i, p) at {@code a[aOff + i * aRowStride + p * aColStride]}
     * (so a transposed A costs nothing), and row-major (k, n) B and (m, n) C. No packing: the
     * blocks are small and already in cache. {@code tile} is the calling thread's scratch of
     * {@link #tileFloats()} floats.
     */
    void product(int m, int n, int k, MemorySegment a, long aOff, int aRowStride, int aColStride,
                 MemorySegment b, long bOff, int ldb, boolean accumulate, MemorySegment c, long cOff, int ldc,
                 MemorySegment tile);

    /** Floats of the per-thread scratch {@link #product} needs (at least 1). */
    int tileFloats();

    /** {@code y[j, i] = scale * x[i, j]} for an (rows, cols) matrix x with leading dimension ldx; y has leading dimension ldy. */
    void transpose(MemorySegment x, long xOff, int ldx, int rows, int cols, float scale, MemorySegment y, long yOff, int ldy);

    /** {@code s[j] += mask[j]} for {@code j < n} (no mask when {@code mask} is null); returns the max of {@code s[0, n)}, at least {@code -Float.MAX_VALUE}. */
    float addMaskMax(MemorySegment s, long sOff, MemorySegment mask, long maskOff, int n);

    /** {@code s[j] = exp(s[j] - shift)} for {@code j < n} and {@code s[j] = 0} for {@code n <= j < width}; returns the sum of the first n. */
    float expSum(MemorySegment s, long sOff, int n, int width, float shift);

    /**
     * The score gradient of one row, times {@code scale}, in place of the gradient of the dropped
     * probabilities: {@code dp[j] = scale * p[j] * ((dropped[j] != 0 ? dp[j] * keepScale : 0) - rowDot)}
     * for {@code j < n}, where p are the probabilities, dropped the same after dropout (p itself
     * without dropout) and {@code rowDot = dO · O} for the row. A kept probability is never 0 after
     * dropout's scaling, and where p is 0 the result is 0 either way, so {@code dropped[j] != 0}
     * tells exactly which scores dropout kept without hashing again.
     */
    void scoreGrad(MemorySegment p, MemorySegment dropped, long off, MemorySegment dp, long dpOff, int n, float rowDot,
                   float keepScale, float scale);
}
