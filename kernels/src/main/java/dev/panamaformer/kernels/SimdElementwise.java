package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Element-wise arithmetic and reductions on the Vector API. */
final class SimdElementwise implements ElementwiseKernel {
    private static final int L = FLOAT.length();
    private static final ScalarElementwise TAIL = new ScalarElementwise();

    @Override
    public void add(MemorySegment x, MemorySegment y, MemorySegment out, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .add(FloatVector.fromMemorySegment(FLOAT, y, i * Float.BYTES, ORDER))
                    .intoMemorySegment(out, i * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) + y.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void scale(MemorySegment x, float alpha, MemorySegment out, long from, long to) {
        long i = from;
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .mul(alpha)
                    .intoMemorySegment(out, i * Float.BYTES, ORDER);
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
            FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .fma(a, FloatVector.fromMemorySegment(FLOAT, y, i * Float.BYTES, ORDER))
                    .intoMemorySegment(y, i * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            y.setAtIndex(JAVA_FLOAT, i, y.getAtIndex(JAVA_FLOAT, i) + alpha * x.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void addTo(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        int i = 0;
        for (int bound = FLOAT.loopBound(n); i < bound; i += L) {
            FloatVector.fromMemorySegment(FLOAT, y, (yOff + i) * Float.BYTES, ORDER)
                    .add(FloatVector.fromMemorySegment(FLOAT, x, (xOff + i) * Float.BYTES, ORDER))
                    .intoMemorySegment(y, (yOff + i) * Float.BYTES, ORDER);
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
            s0 = s0.add(FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER));
            s1 = s1.add(FloatVector.fromMemorySegment(FLOAT, x, (i + L) * Float.BYTES, ORDER));
            s2 = s2.add(FloatVector.fromMemorySegment(FLOAT, x, (i + 2L * L) * Float.BYTES, ORDER));
            s3 = s3.add(FloatVector.fromMemorySegment(FLOAT, x, (i + 3L * L) * Float.BYTES, ORDER));
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            s0 = s0.add(FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER));
        }
        // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
        // out of line (as it may where the call is rare next to the loop before it) is boxed
        FloatVector t = s0.add(s1).add(s2.add(s3));
        if (L > 8) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_8));
        }
        if (L > 4) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_4));
        }
        if (L > 2) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_2));
        }
        if (L > 1) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_1));
        }
        float s = t.lane(0);
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
            m0 = m0.max(FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER));
            m1 = m1.max(FloatVector.fromMemorySegment(FLOAT, x, (i + L) * Float.BYTES, ORDER));
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            m0 = m0.max(FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER));
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
            s0 = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, i * Float.BYTES, ORDER), s0);
            s1 = FloatVector.fromMemorySegment(FLOAT, x, (i + L) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (i + L) * Float.BYTES, ORDER), s1);
            s2 = FloatVector.fromMemorySegment(FLOAT, x, (i + 2L * L) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (i + 2L * L) * Float.BYTES, ORDER), s2);
            s3 = FloatVector.fromMemorySegment(FLOAT, x, (i + 3L * L) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (i + 3L * L) * Float.BYTES, ORDER), s3);
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            s0 = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, i * Float.BYTES, ORDER), s0);
        }
        // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
        // out of line (as it may where the call is rare next to the loop before it) is boxed
        FloatVector t = s0.add(s1).add(s2.add(s3));
        if (L > 8) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_8));
        }
        if (L > 4) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_4));
        }
        if (L > 2) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_2));
        }
        if (L > 1) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_1));
        }
        float s = t.lane(0);
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
            FloatVector v0 = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES,
                    ORDER), v1 = FloatVector.fromMemorySegment(FLOAT, x, (i + L) * Float.BYTES,
                    ORDER), v2 = FloatVector.fromMemorySegment(FLOAT, x, (i + 2L * L) * Float.BYTES,
                    ORDER), v3 = FloatVector.fromMemorySegment(FLOAT, x, (i + 3L * L) * Float.BYTES, ORDER);
            s0 = v0.fma(v0, s0);
            s1 = v1.fma(v1, s1);
            s2 = v2.fma(v2, s2);
            s3 = v3.fma(v3, s3);
        }
        for (long bound = from + FLOAT.loopBound(to - from); i < bound; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES, ORDER);
            s0 = v.fma(v, s0);
        }
        // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
        // out of line (as it may where the call is rare next to the loop before it) is boxed
        FloatVector t = s0.add(s1).add(s2.add(s3));
        if (L > 8) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_8));
        }
        if (L > 4) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_4));
        }
        if (L > 2) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_2));
        }
        if (L > 1) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_1));
        }
        float s = t.lane(0);
        for (; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            s += v * v;
        }
        return s;
    }

    @Override
    public void scale(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, float factor) {
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            FloatVector.fromMemorySegment(FLOAT, x, (xOff + j) * Float.BYTES, ORDER).mul(factor)
                    .intoMemorySegment(y, (yOff + j) * Float.BYTES, ORDER);
        }
        TAIL.scale(x, xOff + j, y, yOff + j, n - j, factor);
    }

    @Override
    public void zero(MemorySegment x, long off, int n) {
        FloatVector zero = FloatVector.zero(FLOAT);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            zero.intoMemorySegment(x, (off + j) * Float.BYTES, ORDER);
        }
        TAIL.zero(x, off + j, n - j);
    }

    @Override
    public float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0;
        int j = 0;
        for (int bound = n - 2 * L; j <= bound; j += 2 * L) {
            s0 = FloatVector.fromMemorySegment(FLOAT, x, (xOff + j) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (yOff + j) * Float.BYTES, ORDER), s0);
            s1 = FloatVector.fromMemorySegment(FLOAT, x, (xOff + j + L) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (yOff + j + L) * Float.BYTES, ORDER), s1);
        }
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            s0 = FloatVector.fromMemorySegment(FLOAT, x, (xOff + j) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(FLOAT, y, (yOff + j) * Float.BYTES, ORDER), s0);
        }
        // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
        // out of line (as it may where the call is rare next to the loop before it) is boxed
        FloatVector t = s0.add(s1);
        if (L > 8) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_8));
        }
        if (L > 4) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_4));
        }
        if (L > 2) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_2));
        }
        if (L > 1) {
            t = t.add(t.rearrange(SimdSpecies.SWAP_1));
        }
        return t.lane(0) + TAIL.dot(x, xOff + j, y, yOff + j, n - j);
    }
}
