package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** ReLU and tanh-form GELU, one element at a time; GELU is evaluated as x * sigmoid(2z). */
final class ScalarActivation implements ActivationKernel {
    /** sqrt(2 / pi). */
    static final float GELU_C = 0.7978845608028654f;
    static final float GELU_A = 0.044715f;

    @Override
    public void reluForward(MemorySegment x, MemorySegment y, long from, long to) {
        for (long i = from; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            y.setAtIndex(JAVA_FLOAT, i, v > 0f ? v : 0f);
        }
    }

    @Override
    public void reluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to) {
        for (long i = from; i < to; i++) {
            if (x.getAtIndex(JAVA_FLOAT, i) > 0f) {
                dx.setAtIndex(JAVA_FLOAT, i, dx.getAtIndex(JAVA_FLOAT, i) + dy.getAtIndex(JAVA_FLOAT, i));
            }
        }
    }

    /** 0.5 (1 + tanh(z)) = sigmoid(2z): no cancellation for large negative x, where tanh(z) is near -1. */
    static float geluGate(float x) {
        float z = GELU_C * (x + GELU_A * x * x * x);
        return 1f / (1f + (float) Math.exp(-2f * z));
    }

    @Override
    public void geluForward(MemorySegment x, MemorySegment y, long from, long to) {
        for (long i = from; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            y.setAtIndex(JAVA_FLOAT, i, v * geluGate(v));
        }
    }

    @Override
    public void geluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to) {
        for (long i = from; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            float s = geluGate(v);
            // d/dx [x s(2z)] = s + x s (1 - s) 2 dz/dx
            float dz2 = 2f * GELU_C * (1f + 3f * GELU_A * v * v);
            float grad = s + v * s * (1f - s) * dz2;
            dx.setAtIndex(JAVA_FLOAT, i, dx.getAtIndex(JAVA_FLOAT, i) + grad * dy.getAtIndex(JAVA_FLOAT, i));
        }
    }
}
