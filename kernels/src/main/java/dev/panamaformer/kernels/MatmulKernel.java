package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Matrix products and bias, single-threaded; {@link Matmul} checks arguments and splits work.
 * Offsets and leading dimensions count floats, not bytes.
 */
interface MatmulKernel {
    /**
     * {@code C = alpha * op(A) * op(B) + beta * C}, row-major, op(X) = X or its transpose;
     * op(A) is (m, k), op(B) is (k, n), C is (m, n). With {@code beta == 0}, C is not read.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
              float beta, MemorySegment c, long cOff, int ldc, GemmWorkspace ws);

    /**
     * {@link #gemm} for a product of fewer than {@link Matmul#SMALL} multiply-adds, such as
     * attention's per-head products: {@link Matmul} runs these whole on one thread, so a kernel
     * may sum them in an order of its own (without packing) and still give the same bits for any
     * thread count. Needs no workspace.
     */
    default void gemmSmall(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                           float beta, MemorySegment c, long cOff, int ldc) {
        gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null);
    }

    /** Scratch memory for one thread's calls to {@link #gemm}; null when the kernel needs none. */
    GemmWorkspace newWorkspace(java.lang.foreign.Arena arena);

    /** {@code y[r, :] += bias} for rows {@code [rowFrom, rowTo)} of a (rows, cols) matrix. */
    void addBias(MemorySegment y, MemorySegment bias, int rowFrom, int rowTo, int cols);

    /** {@code dBias[c] += sum over all rows of dy[r, c]} for columns {@code [colFrom, colTo)}. */
    void biasGrad(MemorySegment dy, MemorySegment dBias, int rows, int cols, int colFrom, int colTo);
}
