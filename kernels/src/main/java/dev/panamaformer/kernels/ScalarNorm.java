package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Layer normalization, one element at a time, mean and variance in two passes. */
final class ScalarNorm implements NormKernel {
    @Override
    public void forward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                        MemorySegment mean, MemorySegment rstd, int rowFrom, int rowTo, int cols, float eps) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            float sum = 0f;
            for (int j = 0; j < cols; j++) {
                sum += x.getAtIndex(JAVA_FLOAT, row + j);
            }
            float mu = sum / cols;
            float sq = 0f;
            for (int j = 0; j < cols; j++) {
                float d = x.getAtIndex(JAVA_FLOAT, row + j) - mu;
                sq += d * d;
            }
            float s = (float) (1.0 / Math.sqrt(sq / cols + eps));
            for (int j = 0; j < cols; j++) {
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
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            float mu = mean.getAtIndex(JAVA_FLOAT, r), s = rstd.getAtIndex(JAVA_FLOAT, r);
            // dL/dxhat = dy * gamma; its mean, and the mean of its product with xhat
            float dNormMean = 0f, dNormXhatMean = 0f;
            for (int j = 0; j < cols; j++) {
                float xhat = (x.getAtIndex(JAVA_FLOAT, row + j) - mu) * s;
                float dNorm = dy.getAtIndex(JAVA_FLOAT, row + j) * gamma.getAtIndex(JAVA_FLOAT, j);
                dNormMean += dNorm;
                dNormXhatMean += dNorm * xhat;
            }
            dNormMean /= cols;
            dNormXhatMean /= cols;
            for (int j = 0; j < cols; j++) {
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
        for (int j = colFrom; j < colTo; j++) {
            float g = 0f, b = 0f;
            for (int r = 0; r < rows; r++) {
                long i = (long) r * cols + j;
                float xhat = (x.getAtIndex(JAVA_FLOAT, i) - mean.getAtIndex(JAVA_FLOAT, r)) * rstd.getAtIndex(JAVA_FLOAT, r);
                float d = dy.getAtIndex(JAVA_FLOAT, i);
                g += d * xhat;
                b += d;
            }
            dGamma.setAtIndex(JAVA_FLOAT, j, dGamma.getAtIndex(JAVA_FLOAT, j) + g);
            dBeta.setAtIndex(JAVA_FLOAT, j, dBeta.getAtIndex(JAVA_FLOAT, j) + b);
        }
    }
}
