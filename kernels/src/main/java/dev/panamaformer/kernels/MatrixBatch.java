package dev.panamaformer.kernels;

/**
 * A grid of row-major matrices inside one tensor, the operand of {@link Matmul#gemmBatched}:
 * matrix {@code (i, j)} starts at element {@code offset + i * stride0 + j * stride1}, and its rows
 * are {@code ld} elements apart. Attention's per-(batch, head) slices of a (B, T, C) tensor are
 * {@code new MatrixBatch(t, h0 * dk, C, T * C, dk)}.
 */
public record MatrixBatch(FloatTensor tensor, long offset, int ld, long stride0, long stride1) {
    public MatrixBatch {
        if (tensor == null) {
            throw new IllegalArgumentException("MatrixBatch tensor is null");
        }
        if (offset < 0 || ld < 0 || stride0 < 0 || stride1 < 0) {
            throw new IllegalArgumentException("MatrixBatch offset, ld and strides must not be negative, got offset " + offset
                    + ", ld " + ld + ", strides " + stride0 + ", " + stride1);
        }
    }

    long start(int i, int j) {
        return offset + i * stride0 + j * stride1;
    }
}
