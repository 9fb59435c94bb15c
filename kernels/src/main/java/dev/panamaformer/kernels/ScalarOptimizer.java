package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Adam and AdamW, one element at a time. */
final class ScalarOptimizer implements OptimizerKernel {
    @Override
    public void adam(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, long from, long to,
                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
                     float biasCorrection1, float biasCorrection2) {
        float stepSize = lr / biasCorrection1;
        float sqrtBc2 = (float) Math.sqrt(biasCorrection2);
        float decay = decoupled ? 1f - lr * weightDecay : 1f;
        float l2 = decoupled ? 0f : weightDecay;
        for (long i = from; i < to; i++) {
            float p = param.getAtIndex(JAVA_FLOAT, i);
            float g = grad.getAtIndex(JAVA_FLOAT, i) + l2 * p;
            float mi = beta1 * m.getAtIndex(JAVA_FLOAT, i) + (1f - beta1) * g;
            float vi = beta2 * v.getAtIndex(JAVA_FLOAT, i) + (1f - beta2) * g * g;
            m.setAtIndex(JAVA_FLOAT, i, mi);
            v.setAtIndex(JAVA_FLOAT, i, vi);
            float denom = (float) Math.sqrt(vi) / sqrtBc2 + eps;
            param.setAtIndex(JAVA_FLOAT, i, p * decay - stepSize * mi / denom);
        }
    }
}
