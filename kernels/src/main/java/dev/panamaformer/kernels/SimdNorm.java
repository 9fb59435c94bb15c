package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.load;
import static dev.panamaformer.kernels.SimdSpecies.store;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Layer normalization on the Vector API. */
final class SimdNorm implements NormKernel {
    private static final int L = FLOAT.length();
    private static final ScalarNorm TAIL = new ScalarNorm();

    @Override
    public void forward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                        MemorySegment mean, MemorySegment rstd, int rowFrom, int rowTo, int cols, float eps) {
        int bound = FLOAT.loopBound(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0;
            int j = 0;
            for (; j + 2 * L <= bound; j += 2 * L) {
                s0 = s0.add(load(x, row + j));
                s1 = s1.add(load(x, row + j + L));
            }
            for (; j < bound; j += L) {
                s0 = s0.add(load(x, row + j));
            }
            float sum = SimdSpecies.sum(s0.add(s1));
            for (; j < cols; j++) {
                sum += x.getAtIndex(JAVA_FLOAT, row + j);
            }
            float mu = sum / cols;
            FloatVector q0 = FloatVector.zero(FLOAT), q1 = q0;
            j = 0;
            for (; j + 2 * L <= bound; j += 2 * L) {
                FloatVector d0 = load(x, row + j).sub(mu), d1 = load(x, row + j + L).sub(mu);
                q0 = d0.fma(d0, q0);
                q1 = d1.fma(d1, q1);
            }
            for (; j < bound; j += L) {
                FloatVector d0 = load(x, row + j).sub(mu);
                q0 = d0.fma(d0, q0);
            }
            float sq = SimdSpecies.sum(q0.add(q1));
            for (; j < cols; j++) {
                float d = x.getAtIndex(JAVA_FLOAT, row + j) - mu;
                sq += d * d;
            }
            float s = (float) (1.0 / Math.sqrt(sq / cols + eps));
            j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = load(x, row + j).sub(mu).mul(s);
                store(xhat.fma(load(gamma, j), load(beta, j)), y, row + j);
            }
            for (; j < cols; j++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, row + j) - mu) * s;
                y.setAtIndex(JAVA_FLOAT, row + j, xhat * gamma.getAtIndex(JAVA_FLOAT, j) + beta.getAtIndex(JAVA_FLOAT, j));
            }
            mean.setAtIndex(JAVA_FLOAT, r, mu);
            rstd.setAtIndex(JAVA_FLOAT, r, s);
        }
    }

    @Override
    public void backwardInput(MemorySegment x, MemorySegment gamma, MemorySegment mean, MemorySegment rstd,
                              MemorySegment dy, MemorySegment dx, int rowFrom, int rowTo, int cols) {
        int bound = FLOAT.loopBound(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            float mu = mean.getAtIndex(JAVA_FLOAT, r), s = rstd.getAtIndex(JAVA_FLOAT, r);
            FloatVector a = FloatVector.zero(FLOAT), b = a;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = load(x, row + j).sub(mu).mul(s);
                FloatVector dNorm = load(dy, row + j).mul(load(gamma, j));
                a = a.add(dNorm);
                b = dNorm.fma(xhat, b);
            }
            float dNormMean = SimdSpecies.sum(a), dNormXhatMean = SimdSpecies.sum(b);
            for (; j < cols; j++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, row + j) - mu) * s;
                float dNorm = dy.getAtIndex(JAVA_FLOAT, row + j) * gamma.getAtIndex(JAVA_FLOAT, j);
                dNormMean += dNorm;
                dNormXhatMean += dNorm * xhat;
            }
            dNormMean /= cols;
            dNormXhatMean /= cols;
            j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = load(x, row + j).sub(mu).mul(s);
                FloatVector dNorm = load(dy, row + j).mul(load(gamma, j));
                FloatVector g = dNorm.sub(dNormMean).sub(xhat.mul(dNormXhatMean)).mul(s);
                store(load(dx, row + j).add(g), dx, row + j);
            }
            for (; j < cols; j++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, row + j) - mu) * s;
                float dNorm = dy.getAtIndex(JAVA_FLOAT, row + j) * gamma.getAtIndex(JAVA_FLOAT, j);
                float g = (dNorm - dNormMean - xhat * dNormXhatMean) * s;
                dx.setAtIndex(JAVA_FLOAT, row + j, dx.getAtIndex(JAVA_FLOAT, row + j) + g);
            }
        }
    }

    @Override
    public void backwardParams(MemorySegment x, MemorySegment mean, MemorySegment rstd, MemorySegment dy,
                               MemorySegment dGamma, MemorySegment dBeta, int rows, int cols, int colFrom, int colTo) {
        int j = colFrom;
        // Columns are independent sums over rows: each vector of columns walks all rows in order,
        // with the scalar twin's exact arithmetic (multiply, then add; no fma), so a column gives
        // the same bits in a vector or in the scalar tail, wherever a thread's column range starts.
        for (int bound = colFrom + FLOAT.loopBound(colTo - colFrom); j < bound; j += L) {
            FloatVector g = FloatVector.zero(FLOAT), b = g;
            for (int r = 0; r < rows; r++) {
                long i = (long) r * cols + j;
                FloatVector xhat = load(x, i).sub(mean.getAtIndex(JAVA_FLOAT, r)).mul(rstd.getAtIndex(JAVA_FLOAT, r));
                FloatVector d = load(dy, i);
                g = g.add(d.mul(xhat));
                b = b.add(d);
            }
            store(load(dGamma, j).add(g), dGamma, j);
            store(load(dBeta, j).add(b), dBeta, j);
        }
        TAIL.backwardParams(x, mean, rstd, dy, dGamma, dBeta, rows, cols, j, colTo);
    }
}
