package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** The plain loops of {@link RotaryKernel}: the oracle of {@link SimdRotary}, and its tail. */
final class ScalarRotary implements RotaryKernel {
    @Override
    public void rotate(MemorySegment x, MemorySegment y, int from, int to, int heads, int headSize, int[] positions,
                       MemorySegment cos, MemorySegment sin, boolean inverse) {
        int half = headSize / 2;
        long width = (long) heads * headSize;
        for (int r = from; r < to; r++) {
            long table = (long) positions[r] * half;
            for (int h = 0; h < heads; h++) {
                rotateHead(x, y, r * width + (long) h * headSize, half, 0, cos, sin, table, inverse);
            }
        }
    }

    /** Pairs i in [start, half) of the head at {@code head}, angles from row {@code table} of the tables. */
    static void rotateHead(MemorySegment x, MemorySegment y, long head, int half, int start, MemorySegment cos, MemorySegment sin,
                           long table, boolean inverse) {
        for (int i = start; i < half; i++) {
            float a = x.getAtIndex(JAVA_FLOAT, head + i), b = x.getAtIndex(JAVA_FLOAT, head + half + i);
            float c = cos.getAtIndex(JAVA_FLOAT, table + i), s = sin.getAtIndex(JAVA_FLOAT, table + i);
            if (inverse) {
                s = -s;
            }
            y.setAtIndex(JAVA_FLOAT, head + i, a * c - b * s);
            y.setAtIndex(JAVA_FLOAT, head + half + i, b * c + a * s);
        }
    }
}
