package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Element-wise arithmetic and reductions, one element at a time, summing in ascending order. */
final class ScalarElementwise implements ElementwiseKernel {
    @Override
    public void add(MemorySegment x, MemorySegment y, MemorySegment out, long from, long to) {
        for (long i = from; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) + y.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void scale(MemorySegment x, float alpha, MemorySegment out, long from, long to) {
        for (long i = from; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, alpha * x.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void axpy(float alpha, MemorySegment x, MemorySegment y, long from, long to) {
        for (long i = from; i < to; i++) {
            y.setAtIndex(JAVA_FLOAT, i, y.getAtIndex(JAVA_FLOAT, i) + alpha * x.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Override
    public void addTo(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        for (int i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, yOff + i, y.getAtIndex(JAVA_FLOAT, yOff + i) + x.getAtIndex(JAVA_FLOAT, xOff + i));
        }
    }

    @Override
    public float sum(MemorySegment x, long from, long to) {
        float s = 0f;
        for (long i = from; i < to; i++) {
            s += x.getAtIndex(JAVA_FLOAT, i);
        }
        return s;
    }

    @Override
    public float max(MemorySegment x, long from, long to) {
        float m = Float.NEGATIVE_INFINITY;
        for (long i = from; i < to; i++) {
            m = Math.max(m, x.getAtIndex(JAVA_FLOAT, i));
        }
        return m;
    }

    @Override
    public float dot(MemorySegment x, MemorySegment y, long from, long to) {
        float s = 0f;
        for (long i = from; i < to; i++) {
            s += x.getAtIndex(JAVA_FLOAT, i) * y.getAtIndex(JAVA_FLOAT, i);
        }
        return s;
    }

    @Override
    public float sumOfSquares(MemorySegment x, long from, long to) {
        float s = 0f;
        for (long i = from; i < to; i++) {
            float v = x.getAtIndex(JAVA_FLOAT, i);
            s += v * v;
        }
        return s;
    }

    @Override
    public void scale(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, float factor) {
        for (int j = 0; j < n; j++) {
            y.setAtIndex(JAVA_FLOAT, yOff + j, x.getAtIndex(JAVA_FLOAT, xOff + j) * factor);
        }
    }

    @Override
    public void zero(MemorySegment x, long off, int n) {
        for (int j = 0; j < n; j++) {
            x.setAtIndex(JAVA_FLOAT, off + j, 0f);
        }
    }

    @Override
    public float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += x.getAtIndex(JAVA_FLOAT, xOff + j) * y.getAtIndex(JAVA_FLOAT, yOff + j);
        }
        return sum;
    }
}
