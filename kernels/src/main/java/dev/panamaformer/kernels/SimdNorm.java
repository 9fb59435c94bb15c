package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

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
                s0 = s0.add(FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER));
                s1 = s1.add(FloatVector.fromMemorySegment(FLOAT, x, (row + j + L) * Float.BYTES, ORDER));
            }
            for (; j < bound; j += L) {
                s0 = s0.add(FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER));
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
            float sum = t.lane(0);
            for (; j < cols; j++) {
                sum += x.getAtIndex(JAVA_FLOAT, row + j);
            }
            float mu = sum / cols;
            FloatVector q0 = FloatVector.zero(FLOAT), q1 = q0;
            j = 0;
            for (; j + 2 * L <= bound; j += 2 * L) {
                FloatVector d0 = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER)
                        .sub(mu), d1 = FloatVector.fromMemorySegment(FLOAT, x, (row + j + L) * Float.BYTES, ORDER)
                        .sub(mu);
                q0 = d0.fma(d0, q0);
                q1 = d1.fma(d1, q1);
            }
            for (; j < bound; j += L) {
                FloatVector d0 = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER).sub(mu);
                q0 = d0.fma(d0, q0);
            }
            // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
            // out of line (as it may where the call is rare next to the loop before it) is boxed
            FloatVector u = q0.add(q1);
            if (L > 8) {
                u = u.add(u.rearrange(SimdSpecies.SWAP_8));
            }
            if (L > 4) {
                u = u.add(u.rearrange(SimdSpecies.SWAP_4));
            }
            if (L > 2) {
                u = u.add(u.rearrange(SimdSpecies.SWAP_2));
            }
            if (L > 1) {
                u = u.add(u.rearrange(SimdSpecies.SWAP_1));
            }
            float sq = u.lane(0);
            for (; j < cols; j++) {
                float d = x.getAtIndex(JAVA_FLOAT, row + j) - mu;
                sq += d * d;
            }
            float s = (float) (1.0 / Math.sqrt(sq / cols + eps));
            j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES,
                        ORDER).sub(mu).mul(s);
                xhat.fma(FloatVector.fromMemorySegment(FLOAT, gamma, j * Float.BYTES, ORDER),
                        FloatVector.fromMemorySegment(FLOAT, beta, j * Float.BYTES, ORDER)).intoMemorySegment(y,
                        (row + j) * Float.BYTES, ORDER);
            }
            for (; j < cols; j++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, row + j) - mu) * s;
                y.setAtIndex(JAVA_FLOAT, row + j,
                        xhat * gamma.getAtIndex(JAVA_FLOAT, j) + beta.getAtIndex(JAVA_FLOAT, j));
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
                FloatVector xhat = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES,
                        ORDER).sub(mu).mul(s);
                FloatVector dNorm = FloatVector.fromMemorySegment(FLOAT, dy, (row + j) * Float.BYTES, ORDER)
                        .mul(FloatVector.fromMemorySegment(FLOAT, gamma, j * Float.BYTES, ORDER));
                a = a.add(dNorm);
                b = dNorm.fma(xhat, b);
            }
            // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
            // out of line (as it may where the call is rare next to the loop before it) is boxed
            if (L > 8) {
                a = a.add(a.rearrange(SimdSpecies.SWAP_8));
                b = b.add(b.rearrange(SimdSpecies.SWAP_8));
            }
            if (L > 4) {
                a = a.add(a.rearrange(SimdSpecies.SWAP_4));
                b = b.add(b.rearrange(SimdSpecies.SWAP_4));
            }
            if (L > 2) {
                a = a.add(a.rearrange(SimdSpecies.SWAP_2));
                b = b.add(b.rearrange(SimdSpecies.SWAP_2));
            }
            if (L > 1) {
                a = a.add(a.rearrange(SimdSpecies.SWAP_1));
                b = b.add(b.rearrange(SimdSpecies.SWAP_1));
            }
            float dNormMean = a.lane(0), dNormXhatMean = b.lane(0);
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
                FloatVector xhat = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES,
                        ORDER).sub(mu).mul(s);
                FloatVector dNorm = FloatVector.fromMemorySegment(FLOAT, dy, (row + j) * Float.BYTES, ORDER)
                        .mul(FloatVector.fromMemorySegment(FLOAT, gamma, j * Float.BYTES, ORDER));
                FloatVector g = dNorm.sub(dNormMean).sub(xhat.mul(dNormXhatMean)).mul(s);
                FloatVector.fromMemorySegment(FLOAT, dx, (row + j) * Float.BYTES, ORDER)
                        .add(g)
                        .intoMemorySegment(dx, (row + j) * Float.BYTES, ORDER);
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
                FloatVector xhat = FloatVector.fromMemorySegment(FLOAT, x, i * Float.BYTES,
                        ORDER).sub(mean.getAtIndex(JAVA_FLOAT, r)).mul(rstd.getAtIndex(JAVA_FLOAT, r));
                FloatVector d = FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER);
                g = g.add(d.mul(xhat));
                b = b.add(d);
            }
            FloatVector.fromMemorySegment(FLOAT, dGamma, j * Float.BYTES, ORDER)
                    .add(g)
                    .intoMemorySegment(dGamma, j * Float.BYTES, ORDER);
            FloatVector.fromMemorySegment(FLOAT, dBeta, j * Float.BYTES, ORDER)
                    .add(b)
                    .intoMemorySegment(dBeta, j * Float.BYTES, ORDER);
        }
        TAIL.backwardParams(x, mean, rstd, dy, dGamma, dBeta, rows, cols, j, colTo);
    }
}
