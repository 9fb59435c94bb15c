package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.load;
import static dev.panamaformer.kernels.SimdSpecies.store;

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
            FloatVector p = load(param, i);
            FloatVector g = p.mul(l2).add(load(grad, i));
            FloatVector mi = load(m, i).mul(beta1).add(g.mul(1f - beta1));
            FloatVector vi = load(v, i).mul(beta2).add(g.mul(g).mul(1f - beta2));
            store(mi, m, i);
            store(vi, v, i);
            FloatVector denom = vi.lanewise(VectorOperators.SQRT).mul(invSqrtBc2).add(eps);
            store(p.mul(decay).sub(mi.mul(stepSize).div(denom)), param, i);
        }
        TAIL.adam(param, grad, m, v, i, to, lr, beta1, beta2, eps, weightDecay, decoupled, biasCorrection1, biasCorrection2);
    }
}
