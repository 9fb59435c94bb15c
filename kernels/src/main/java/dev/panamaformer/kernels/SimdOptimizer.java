package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Adam and AdamW on the Vector API. The elements past the last whole vector are updated with
 * the very operations of the vector loop, one lane at a time, so that an element's update never
 * depends on where it falls: one call over all parameters (flat) and one call per parameter give
 * the same bits, as do any chunks the threads take.
 */
final class SimdOptimizer implements OptimizerKernel {
    private static final int L = FLOAT.length();

    @Override
    public void adam(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, long from, long to,
                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
                     float biasCorrection1, float biasCorrection2) {
        float stepSize = lr / biasCorrection1;
        float invSqrtBc2 = 1f / (float) Math.sqrt(biasCorrection2);
        float decay = decoupled ? 1f - lr * weightDecay : 1f;
        float l2 = decoupled ? 0f : weightDecay;
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector p = FloatVector.fromMemorySegment(FLOAT, param, i * Float.BYTES, ORDER);
            FloatVector g = p.mul(l2).add(FloatVector.fromMemorySegment(FLOAT, grad, i * Float.BYTES, ORDER));
            FloatVector mi = FloatVector.fromMemorySegment(FLOAT, m, i * Float.BYTES,
                    ORDER).mul(beta1).add(g.mul(1f - beta1));
            FloatVector vi = FloatVector.fromMemorySegment(FLOAT, v, i * Float.BYTES,
                    ORDER).mul(beta2).add(g.mul(g).mul(1f - beta2));
            mi.intoMemorySegment(m, i * Float.BYTES, ORDER);
            vi.intoMemorySegment(v, i * Float.BYTES, ORDER);
            FloatVector denom = vi.lanewise(VectorOperators.SQRT).mul(invSqrtBc2).add(eps);
            p.mul(decay).sub(mi.mul(stepSize).div(denom)).intoMemorySegment(param, i * Float.BYTES, ORDER);
        }
        for (; i < to; i++) { // the loop above, lane by lane: no fused multiply-add, same order
            float p = param.getAtIndex(JAVA_FLOAT, i);
            float g = p * l2 + grad.getAtIndex(JAVA_FLOAT, i);
            float mi = m.getAtIndex(JAVA_FLOAT, i) * beta1 + g * (1f - beta1);
            float vi = v.getAtIndex(JAVA_FLOAT, i) * beta2 + g * g * (1f - beta2);
            m.setAtIndex(JAVA_FLOAT, i, mi);
            v.setAtIndex(JAVA_FLOAT, i, vi);
            float denom = (float) Math.sqrt(vi) * invSqrtBc2 + eps;
            param.setAtIndex(JAVA_FLOAT, i, p * decay - mi * stepSize / denom);
        }
    }
}
