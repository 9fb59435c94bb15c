package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static dev.panamaformer.kernels.SimdSpecies.INT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** Inverted dropout on the Vector API: the hash of {@link DropoutKernel#keepBits} in integer lanes. */
final class SimdDropout implements DropoutKernel {
    private static final int L = FLOAT.length();
    private static final ScalarDropout TAIL = new ScalarDropout();

    /** Lanes of {@code index} that {@link DropoutKernel#keepBits} keeps at {@code threshold}. */
    static VectorMask<Float> keep(IntVector index, long seed, int threshold) {
        IntVector h = index.mul(0x9E3779B9).add((int) seed).lanewise(VectorOperators.XOR, (int) (seed >>> 32));
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
        return h.lanewise(VectorOperators.LSHR, 32 - PROBABILITY_BITS).compare(VectorOperators.GE,
                threshold).cast(FLOAT);
    }

    @Override
    public void backward(MemorySegment dy, MemorySegment dx, long from, long to, int threshold, float scale,
            long seed) {
        IntVector iota = SimdSpecies.iota();
        FloatVector zero = FloatVector.zero(FLOAT);
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            VectorMask<Float> kept = keep(iota.add((int) i), seed, threshold);
            FloatVector.fromMemorySegment(FLOAT, dx, i * Float.BYTES, ORDER)
                    .add(zero.blend(FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER).mul(scale), kept))
                    .intoMemorySegment(dx, i * Float.BYTES, ORDER);
        }
        TAIL.backward(dy, dx, i, to, threshold, scale, seed);
    }

    @Override
    public void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, int index, int threshold,
                      float scale, long seed) {
        IntVector iota = SimdSpecies.iota();
        FloatVector zero = FloatVector.zero(FLOAT);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            VectorMask<Float> kept = keep(iota.add(index + j), seed, threshold);
            zero.blend(FloatVector.fromMemorySegment(FLOAT, x, (xOff + j) * Float.BYTES, ORDER).mul(scale), kept)
                    .intoMemorySegment(y, (yOff + j) * Float.BYTES, ORDER);
        }
        TAIL.apply(x, xOff + j, y, yOff + j, n - j, index + j, threshold, scale, seed);
    }
}
