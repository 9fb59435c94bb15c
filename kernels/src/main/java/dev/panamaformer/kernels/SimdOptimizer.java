package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Adam and AdamW on the Vector API. */
final class SimdOptimizer implements OptimizerKernel {
    private static final int L = FLOAT.length();
    private static final ScalarOptimizer TAIL = new ScalarOptimizer();

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
        TAIL.adam(param, grad, m, v, i, to, lr, beta1, beta2, eps, weightDecay, decoupled, biasCorrection1,
                biasCorrection2);
    }
}
