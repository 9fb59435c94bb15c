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

    @Override
    public void backward(MemorySegment dy, MemorySegment dx, long from, long to, int threshold, float scale,
            long seed) {
        IntVector iota = IntVector.zero(INT).addIndex(1);
        FloatVector zero = FloatVector.zero(FLOAT);
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            // DropoutKernel#keepBits in lanes, written out in each loop: a helper of ours taking or
            // returning vectors boxes them wherever C2 does not inline it (the Vector API's own
            // methods it always inlines)
            IntVector h = iota.add((int) i).mul(0x9E3779B9).add((int) seed).lanewise(VectorOperators.XOR, (int) (seed >>> 32));
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
            VectorMask<Float> kept = h.lanewise(VectorOperators.LSHR, 32 - PROBABILITY_BITS)
                    .compare(VectorOperators.GE, threshold).cast(FLOAT);
            FloatVector.fromMemorySegment(FLOAT, dx, i * Float.BYTES, ORDER)
                    .add(zero.blend(FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER).mul(scale), kept))
                    .intoMemorySegment(dx, i * Float.BYTES, ORDER);
        }
        TAIL.backward(dy, dx, i, to, threshold, scale, seed);
    }

    @Override
    public void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, int index, int threshold,
                      float scale, long seed) {
        IntVector iota = IntVector.zero(INT).addIndex(1);
        FloatVector zero = FloatVector.zero(FLOAT);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            // keepBits in lanes, as in backward
            IntVector h = iota.add(index + j).mul(0x9E3779B9).add((int) seed).lanewise(VectorOperators.XOR, (int) (seed >>> 32));
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
            h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
            VectorMask<Float> kept = h.lanewise(VectorOperators.LSHR, 32 - PROBABILITY_BITS)
                    .compare(VectorOperators.GE, threshold).cast(FLOAT);
            zero.blend(FloatVector.fromMemorySegment(FLOAT, x, (xOff + j) * Float.BYTES, ORDER).mul(scale), kept)
                    .intoMemorySegment(y, (yOff + j) * Float.BYTES, ORDER);
        }
        TAIL.apply(x, xOff + j, y, yOff + j, n - j, index + j, threshold, scale, seed);
    }
}
