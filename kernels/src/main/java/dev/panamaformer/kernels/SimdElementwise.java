package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.load;
import static dev.panamaformer.kernels.SimdSpecies.store;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Element-wise arithmetic and reductions on the Vector API. */
final class SimdElementwise implements ElementwiseKernel {
    private static final int L = FLOAT.length();

    @Override
    public void add(MemorySegment x, MemorySegment y, MemorySegment out, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            store(load(x, i).add(load(y, i)), out, i);
        }
        for (; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) + y.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void scale(MemorySegment x, float alpha, MemorySegment out, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            store(load(x, i).mul(alpha), out, i);
        }
        for (; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, alpha * x.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void axpy(float alpha, MemorySegment x, MemorySegment y, long from, long to) {
        long i = from;
        FloatVector a = FloatVector.broadcast(FLOAT, alpha);
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            store(load(x, i).fma(a, load(y, i)), y, i);
        }
        for (; i < to; i++) {
            y.setAtIndex(JAVA_FLOAT, i, y.getAtIndex(JAVA_FLOAT, i) + alpha * x.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void addTo(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        int i = 0;
        for (int bound = FLOAT.loopBound(n); i < bound; i += L) {
            store(load(y, yOff + i).add(load(x, xOff + i)), y, yOff + i);
        }
        for (; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, yOff + i, y.getAtIndex(JAVA_FLOAT, yOff + i) + x.getAtIndex(JAVA_FLOAT, xOff + i));
        }
    }

    @Override
    public float sum(MemorySegment x, long from, long to) {
        // four accumulators hide the latency of dependent vector adds
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0, s2 = s0, s3 = s0;
        long i = from;
        for (long bound = from + (to - from) / (4L * L) * (4L * L); i < bound; i += 4L * L) {
            s0 = s0.add(load(x, i));
            s1 = s1.add(load(x, i + L));
            s2 = s2.add(load(x, i + 2L * L));
            s3 = s3.add(load(x, i + 3L * L));
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            s0 = s0.add(load(x, i));
        }
        float s = SimdSpecies.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < to; i++) {
            s += x.getAtIndex(JAVA_FLOAT, i);
        }
        return s;
    }

    @Override
    public float max(MemorySegment x, long from, long to) {
        FloatVector m0 = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY), m1 = m0;
        long i = from;
        for (long bound = from + (to - from) / (2L * L) * (2L * L); i < bound; i += 2L * L) {
            m0 = m0.max(load(x, i));
            m1 = m1.max(load(x, i + L));
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            m0 = m0.max(load(x, i));
        }
        float m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; i < to; i++) {
            m = Math.max(m, x.getAtIndex(JAVA_FLOAT, i));
        }
        return m;
    }

    @Override
    public float dot(MemorySegment x, MemorySegment y, long from, long to) {
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0, s2 = s0, s3 = s0;
        long i = from;
        for (long bound = from + (to - from) / (4L * L) * (4L * L); i < bound; i += 4L * L) {
            s0 = load(x, i).fma(load(y, i), s0);
            s1 = load(x, i + L).fma(load(y, i + L), s1);
            s2 = load(x, i + 2L * L).fma(load(y, i + 2L * L), s2);
            s3 = load(x, i + 3L * L).fma(load(y, i + 3L * L), s3);
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            s0 = load(x, i).fma(load(y, i), s0);
        }
        float s = SimdSpecies.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < to; i++) {
            s += x.getAtIndex(JAVA_FLOAT, i) * y.getAtIndex(JAVA_FLOAT, i);
        }
        return s;
    }

    @Override
    public float sumOfSquares(MemorySegment x, long from, long to) {
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0, s2 = s0, s3 = s0;
        long i = from;
        for (long bound = from + (to - from) / (4L * L) * (4L * L); i < bound; i += 4L * L) {
            FloatVector v0 = load(x, i), v1 = load(x, i + L), v2 = load(x, i + 2L * L), v3 = load(x, i + 3L * L);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
            s2 = v2.fma(v2, s2);
            s3 = v3.fma(v3, s3);
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector v = load(x, i);
            s0 = v.fma(v, s0);
        }
        float s = SimdSpecies.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            s += v * v;
        }
        return s;
    }
}
