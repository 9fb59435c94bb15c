package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Rotary position embeddings over rows {@code [from, to)}; see {@link Rotary}. */
interface RotaryKernel {
    /**
     * For each row r and head h of x (rows, heads * headSize), each i below half = headSize / 2,
     * with a = x[r, h, i], b = x[r, h, i + half], c = cos[positions[r], i] and s = sin[...]
     * (negated when {@code inverse}): {@code y[r, h, i] = a c - b s}, {@code y[r, h, i + half] = b c + a s},
     * each product rounded before the sum, never fused. y may be x.
     */
    void rotate(MemorySegment x, MemorySegment y, int from, int to, int heads, int headSize, int[] positions,
                MemorySegment cos, MemorySegment sin, boolean inverse);
}
