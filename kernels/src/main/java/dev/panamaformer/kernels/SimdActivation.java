package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.ScalarActivation.GELU_A;
import static dev.panamaformer.kernels.ScalarActivation.GELU_C;
import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** ReLU and tanh-form GELU on the Vector API, GELU as x * sigmoid(2z) on {@link SimdMath#exp}. */
final class SimdActivation implements ActivationKernel {
    private static final int L = FLOAT.length();
    private static final ScalarActivation TAIL = new ScalarActivation();

    @Override
    public void reluForward(MemorySegment x, MemorySegment y, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .max(0f)
                    .intoMemorySegment(y, i * Float.BYTES, ORDER);
        }
        TAIL.reluForward(x, y, i, to);
    }

    @Override
    public void reluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to) {
        FloatVector zero = FloatVector.zero(FLOAT);
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector g = zero.blend(FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER),
                    FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER).compare(VectorOperators.GT, 0f));
            FloatVector.fromMemorySegment(FLOAT, dx, i * Float.BYTES, ORDER)
                    .add(g)
                    .intoMemorySegment(dx, i * Float.BYTES, ORDER);
        }
        TAIL.reluBackward(x, dy, dx, i, to);
    }

    /** sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)), the gate of the tanh form. */
    private static FloatVector gate(FloatVector v) {
        FloatVector z2 = v.mul(v).mul(GELU_A).mul(v).add(v).mul(2f * GELU_C);
        return SimdMath.sigmoid(z2);
    }

    @Override
    public void geluForward(MemorySegment x, MemorySegment y, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER);
            v.mul(gate(v)).intoMemorySegment(y, i * Float.BYTES, ORDER);
        }
        TAIL.geluForward(x, y, i, to);
    }

    @Override
    public void geluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER);
            FloatVector s = gate(v);
            FloatVector dz2 = v.mul(v).mul(3f * GELU_A).add(1f).mul(2f * GELU_C);
            FloatVector grad = v.mul(s).mul(s.neg().add(1f)).mul(dz2).add(s);
            grad.fma(FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER),
                    FloatVector.fromMemorySegment(FLOAT, dx, i * Float.BYTES, ORDER)).intoMemorySegment(dx,
                    i * Float.BYTES, ORDER);
        }
        TAIL.geluBackward(x, dy, dx, i, to);
    }
}
