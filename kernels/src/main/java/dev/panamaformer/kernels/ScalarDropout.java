package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Inverted dropout, one element at a time. */
final class ScalarDropout implements DropoutKernel {
    @Override
    public void backward(MemorySegment dy, MemorySegment dx, long from, long to, int threshold, float scale, long seed) {
        for (long i = from; i < to; i++) {
            if (DropoutKernel.keepBits(seed, (int) i) >= threshold) {
                dx.setAtIndex(JAVA_FLOAT, i, dx.getAtIndex(JAVA_FLOAT, i) + dy.getAtIndex(JAVA_FLOAT, i) * scale);
            }
        }
    }

    @Override
    public void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, int index, int threshold,
                      float scale, long seed) {
        for (int j = 0; j < n; j++) {
            boolean keep = DropoutKernel.keepBits(seed, index + j) >= threshold;
            y.setAtIndex(JAVA_FLOAT, yOff + j, keep ? x.getAtIndex(JAVA_FLOAT, xOff + j) * scale : 0f);
        }
    }
}
