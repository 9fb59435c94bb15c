package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Element-wise arithmetic and reductions over {@code [from, to)}, and over rows at offsets; see {@link Elementwise}. */
interface ElementwiseKernel {
    /** {@code out = x + y}. */
    void add(MemorySegment x, MemorySegment y, MemorySegment out, long from, long to);

    /** {@code out = alpha * x}. */
    void scale(MemorySegment x, float alpha, MemorySegment out, long from, long to);

    /** {@code y += alpha * x}. */
    void axpy(float alpha, MemorySegment x, MemorySegment y, long from, long to);

    /** {@code y[yOff + i] += x[xOff + i]} for i in {@code [0, n)}. */
    void addTo(MemorySegment x, long xOff, MemorySegment y, long yOff, int n);

    float sum(MemorySegment x, long from, long to);

    /** The largest element, NaN if any element is NaN, negative infinity for an empty range. */
    float max(MemorySegment x, long from, long to);

    float dot(MemorySegment x, MemorySegment y, long from, long to);

    float sumOfSquares(MemorySegment x, long from, long to);

    /** {@code y[yOff + j] = factor * x[xOff + j]} for j in {@code [0, n)}; y may be x. */
    void scale(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, float factor);

    /** {@code x[off + j] = 0} for j in {@code [0, n)}. */
    void zero(MemorySegment x, long off, int n);

    /** The sum of {@code x[xOff + j] * y[yOff + j]} for j in {@code [0, n)}. */
    float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n);
}
