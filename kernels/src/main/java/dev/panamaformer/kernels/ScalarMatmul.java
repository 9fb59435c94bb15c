package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** The plain matrix product: one dot product per output element, summed in ascending k. */
final class ScalarMatmul implements MatmulKernel {
    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc, GemmWorkspace ws) {
        // op(A)[i, p] = a[aOff + i * aRow + p * aCol]; op(B)[p, j] = b[bOff + p * bRow + j * bCol]
        long aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        long bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += a.getAtIndex(JAVA_FLOAT, aOff + i * aRow + p * aCol)
                            * b.getAtIndex(JAVA_FLOAT, bOff + p * bRow + j * bCol);
                }
                long ci = cOff + (long) i * ldc + j;
                float out = alpha * sum;
                if (beta != 0f) {
                    out += beta * c.getAtIndex(JAVA_FLOAT, ci);
                }
                c.setAtIndex(JAVA_FLOAT, ci, out);
            }
        }
    }

    @Override
    public GemmWorkspace newWorkspace(java.lang.foreign.Arena arena) {
        return null;
    }

    @Override
    public void addBias(MemorySegment y, MemorySegment bias, int rowFrom, int rowTo, int cols) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            for (int j = 0; j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, y.getAtIndex(JAVA_FLOAT, row + j) + bias.getAtIndex(JAVA_FLOAT, j));
            }
        }
    }

    @Override
    public void biasGrad(MemorySegment dy, MemorySegment dBias, int rows, int cols, int colFrom, int colTo) {
        for (int j = colFrom; j < colTo; j++) {
            float sum = 0f;
            for (int r = 0; r < rows; r++) {
                sum += dy.getAtIndex(JAVA_FLOAT, (long) r * cols + j);
            }
            dBias.setAtIndex(JAVA_FLOAT, j, dBias.getAtIndex(JAVA_FLOAT, j) + sum);
        }
    }
}
