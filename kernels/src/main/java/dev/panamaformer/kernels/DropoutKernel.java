package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout over {@code [from, to)}. Whether element {@code i} is kept depends only on the
 * seed and {@code i} (a counter-based stream, see {@link #keepBits}), so the backward pass
 * recomputes the mask instead of storing it, and any split across threads or lanes gives the
 * same mask.
 */
interface DropoutKernel {
    /** Probabilities are resolved to 1/2^24. */
    int PROBABILITY_BITS = 24;

    /**
     * {@code y = keep(i) ? x / (1 - p) : 0}, where {@code keep(i)} holds iff
     * {@code keepBits(seed, i) >= threshold}: {@link #apply} at the elements' own index (as an
     * int, wrapping as the hash does), in pieces of at most 2^30 elements.
     */
    default void forward(MemorySegment x, MemorySegment y, long from, long to, int threshold, float scale, long seed) {
        for (long i = from; i < to; i += 1 << 30) {
            apply(x, i, y, i, (int) Math.min(1 << 30, to - i), (int) i, threshold, scale, seed);
        }
    }

    /** {@code dx += keep(i) ? dy / (1 - p) : 0}. */
    void backward(MemorySegment dy, MemorySegment dx, long from, long to, int threshold, float scale, long seed);

    /**
     * {@code y[yOff + j] = keep(index + j) ? x[xOff + j] * scale : 0} for j in {@code [0, n)}: the
     * mask of elements {@code index, index + 1, ...} over rows that lie elsewhere (a row of fused
     * attention's scores); y may be x.
     */
    void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, int index, int threshold, float scale,
               long seed);

    /** The threshold for drop probability {@code p}: {@code round(p * 2^24)}. */
    static int threshold(float p) {
        return (int) Math.round((double) p * (1 << PROBABILITY_BITS));
    }

    /**
     * 24 uniformly distributed bits for element {@code index} under {@code seed}: the index, spread
     * by the golden ratio and keyed with the seed, through MurmurHash3's 32-bit finalizer.
     */
    static int keepBits(long seed, int index) {
        int h = index * 0x9E3779B9 + (int) seed;
        h ^= (int) (seed >>> 32);
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h >>> (32 - PROBABILITY_BITS);
    }
}
