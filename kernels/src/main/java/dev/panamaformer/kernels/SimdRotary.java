package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@link RotaryKernel} on the Vector API. The "rotate half" layout pairs element i of a head with
 * element i + headSize / 2, so a vector of pairs is two plain loads, no shuffle; the same
 * products and sums as {@link ScalarRotary}, so the same bits.
 */
final class SimdRotary implements RotaryKernel {
    private static final int L = FLOAT.length();

    @Override
    public void rotate(MemorySegment x, MemorySegment y, int from, int to, int heads, int headSize, int[] positions,
                       MemorySegment cos, MemorySegment sin, boolean inverse) {
        int half = headSize / 2, bound = FLOAT.loopBound(half);
        long width = (long) heads * headSize;
        for (int r = from; r < to; r++) {
            long table = (long) positions[r] * half;
            for (int h = 0; h < heads; h++) {
                long head = r * width + (long) h * headSize;
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector a = FloatVector.fromMemorySegment(FLOAT, x, (head + i) * Float.BYTES, ORDER);
                    FloatVector b = FloatVector.fromMemorySegment(FLOAT, x, (head + half + i) * Float.BYTES, ORDER);
                    FloatVector c = FloatVector.fromMemorySegment(FLOAT, cos, (table + i) * Float.BYTES, ORDER);
                    FloatVector s = FloatVector.fromMemorySegment(FLOAT, sin, (table + i) * Float.BYTES, ORDER);
                    if (inverse) {
                        s = s.neg();
                    }
                    a.mul(c).sub(b.mul(s)).intoMemorySegment(y, (head + i) * Float.BYTES, ORDER);
                    b.mul(c).add(a.mul(s)).intoMemorySegment(y, (head + half + i) * Float.BYTES, ORDER);
                }
                ScalarRotary.rotateHead(x, y, head, half, i, cos, sin, table, inverse);
            }
        }
    }
}
