package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Blocked matrix product on the Vector API, after Goto and van de Geijn (2008): op(B) is packed
 * into panels NR columns wide, op(A) into panels MR rows tall, and a register-tile micro-kernel
 * multiplies one panel pair. Packing absorbs both transpositions, so one micro-kernel serves all
 * four forms.
 *
 * <p>Every element of C is summed over k in the same order (blocks of KC, ascending) wherever it
 * falls in the tiling, so splitting C across threads does not change a single bit.
 */
final class SimdMatmul implements MatmulKernel {
    private static final int L = FLOAT.length();
    /** Register tile: MR rows by four vectors. 24 accumulators + 4 B vectors + 1 broadcast fit AVX-512's 32 registers. */
    static final int MR = 6;
    static final int NR = 4 * L;
    /** A KC x NR panel of B stays in L2 while the MR x KC panels of A stream past it. */
    static final int KC = 256;
    static final int MC = 20 * MR;
    static final int NC = 1024 / NR * NR;

    private static final ScalarMatmul EDGES = new ScalarMatmul();

    @Override
    public GemmWorkspace newWorkspace(Arena arena) {
        return new GemmWorkspace(arena, (long) MC * KC, (long) KC * NC, (long) MR * NR);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc, GemmWorkspace ws) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            // no products: C = beta * C, via the scalar path, which handles it per element
            EDGES.gemm(transA, transB, m, n, 0, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null);
            return;
        }
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float betaBlock = pc == 0 ? beta : 1f;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, ws.packedB);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    int rows = packA(transA, a, aOff, lda, ic, mc, pc, kc, ws.packedA);
                    // row i, column p of the packed block is at i * aRow + p * aCol
                    int aRow = transA ? 1 : kc, aCol = transA ? rows : 1;
                    for (int jr = 0; jr < nc; jr += NR) {
                        long bPanel = (long) (jr / NR) * kc * NR;
                        for (int ir = 0; ir < mc; ir += MR) {
                            long cTile = cOff + (long) (ic + ir) * ldc + jc + jr;
                            microKernel(kc, ws.packedA, (long) ir * aRow, aRow, aCol, ws.packedB, bPanel, alpha, betaBlock,
                                    c, cTile, ldc, Math.min(MR, mc - ir), Math.min(NR, nc - jr), ws.tile);
                        }
                    }
                }
            }
        }
    }

    /** Packs op(B)[pc:pc+kc, jc:jc+nc] as panels of NR columns, each kc rows of NR floats; short panels are zero-padded. */
    private static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc,
                              MemorySegment dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int w = Math.min(NR, nc - jr);
            long panel = (long) (jr / NR) * kc * NR;
            for (int p = 0; p < kc; p++) {
                long d = panel + (long) p * NR;
                if (!transB) {
                    MemorySegment.copy(b, (bOff + (long) (pc + p) * ldb + jc + jr) * Float.BYTES,
                            dst, d * Float.BYTES, (long) w * Float.BYTES);
                } else {
                    long src = bOff + (long) (jc + jr) * ldb + pc + p;
                    for (int jj = 0; jj < w; jj++) {
                        dst.setAtIndex(JAVA_FLOAT, d + jj, b.getAtIndex(JAVA_FLOAT, src + (long) jj * ldb));
                    }
                }
                for (int jj = w; jj < NR; jj++) {
                    dst.setAtIndex(JAVA_FLOAT, d + jj, 0f);
                }
            }
        }
    }

    /**
     * Packs op(A)[ic:ic+mc, pc:pc+kc] into a block of {@code rows} (mc rounded up to MR) rows,
     * the rows past mc zero, keeping the source's orientation so that packing is one bulk copy
     * per stored row: row-major (row i at i * kc) when A is stored (m, k), column-major (column
     * p at p * rows) when A is stored (k, m). Returns rows.
     */
    private static int packA(boolean transA, MemorySegment a, long aOff, int lda, int ic, int mc, int pc, int kc,
                             MemorySegment dst) {
        int rows = (mc + MR - 1) / MR * MR;
        if (!transA) {
            for (int i = 0; i < mc; i++) {
                MemorySegment.copy(a, (aOff + (long) (ic + i) * lda + pc) * Float.BYTES,
                        dst, (long) i * kc * Float.BYTES, (long) kc * Float.BYTES);
            }
            for (long d = (long) mc * kc, end = (long) rows * kc; d < end; d++) {
                dst.setAtIndex(JAVA_FLOAT, d, 0f);
            }
        } else {
            for (int p = 0; p < kc; p++) {
                long d = (long) p * rows;
                MemorySegment.copy(a, (aOff + (long) (pc + p) * lda + ic) * Float.BYTES,
                        dst, d * Float.BYTES, (long) mc * Float.BYTES);
                for (int i = mc; i < rows; i++) {
                    dst.setAtIndex(JAVA_FLOAT, d + i, 0f);
                }
            }
        }
        return rows;
    }

    /**
     * C tile (rows x cols, at most MR x NR) = alpha * Apanel * Bpanel + beta * C tile. Row r,
     * column p of the A panel is at aPanel + r * aRow + p * aCol.
     */
    private static void microKernel(int kc, MemorySegment pa, long aPanel, int aRow, int aCol, MemorySegment pb, long bPanel,
                                    float alpha, float beta, MemorySegment c, long cTile, int ldc,
                                    int rows, int cols, MemorySegment tile) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z;
        FloatVector c50 = z, c51 = z, c52 = z, c53 = z;
        long r1 = aRow, r2 = 2L * aRow, r3 = 3L * aRow, r4 = 4L * aRow, r5 = 5L * aRow;
        long ap = aPanel, bp = bPanel;
        for (int p = 0; p < kc; p++, ap += aCol, bp += NR) {
            long bb = bp * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, pb, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, pb, bb + L * Float.BYTES, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, pb, bb + 2 * L * Float.BYTES, ORDER);
            FloatVector b3 = FloatVector.fromMemorySegment(FLOAT, pb, bb + 3 * L * Float.BYTES, ORDER);
            FloatVector a0 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap));
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            c02 = b2.fma(a0, c02);
            c03 = b3.fma(a0, c03);
            FloatVector a1 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap + r1));
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            c12 = b2.fma(a1, c12);
            c13 = b3.fma(a1, c13);
            FloatVector a2 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap + r2));
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            c22 = b2.fma(a2, c22);
            c23 = b3.fma(a2, c23);
            FloatVector a3 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap + r3));
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            c32 = b2.fma(a3, c32);
            c33 = b3.fma(a3, c33);
            FloatVector a4 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap + r4));
            c40 = b0.fma(a4, c40);
            c41 = b1.fma(a4, c41);
            c42 = b2.fma(a4, c42);
            c43 = b3.fma(a4, c43);
            FloatVector a5 = FloatVector.broadcast(FLOAT, pa.getAtIndex(JAVA_FLOAT, ap + r5));
            c50 = b0.fma(a5, c50);
            c51 = b1.fma(a5, c51);
            c52 = b2.fma(a5, c52);
            c53 = b3.fma(a5, c53);
        }
        // The accumulators go to the tile buffer (L1-resident), and writeBack scales them into C:
        // passing 24 vectors to a helper would box them where C2 declines to inline it, and so
        // would our store() helper in a method this large (seen as 59 MB allocated per training
        // step), hence the direct intoMemorySegment calls.
        long tb = 0;
        c00.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c01.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c02.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c03.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += NR;
        c10.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c11.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c12.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c13.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += NR;
        c20.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c21.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c22.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c23.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += NR;
        c30.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c31.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c32.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c33.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += NR;
        c40.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c41.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c42.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c43.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += NR;
        c50.intoMemorySegment(tile, tb * Float.BYTES, ORDER);
        c51.intoMemorySegment(tile, (tb + L) * Float.BYTES, ORDER);
        c52.intoMemorySegment(tile, (tb + 2 * L) * Float.BYTES, ORDER);
        c53.intoMemorySegment(tile, (tb + 3 * L) * Float.BYTES, ORDER);
        writeBack(tile, alpha, beta, c, cTile, ldc, rows, cols);
    }

    /**
     * C tile = alpha * tile + beta * C tile (C not read when beta is 0). Multiply, then add,
     * never fused, in vectors and in the scalar edge alike, so that an element rounds the same
     * whichever way a thread's range cuts the tiles.
     */
    private static void writeBack(MemorySegment tile, float alpha, float beta, MemorySegment c, long cTile, int ldc,
                                  int rows, int cols) {
        int vecCols = cols / L * L;
        for (int i = 0; i < rows; i++) {
            long t = (long) i * NR, ci = cTile + (long) i * ldc;
            int j = 0;
            for (; j < vecCols; j += L) {
                FloatVector v = FloatVector.fromMemorySegment(FLOAT, tile, (t + j) * Float.BYTES, ORDER).mul(alpha);
                if (beta != 0f) {
                    v = v.add(FloatVector.fromMemorySegment(FLOAT, c, (ci + j) * Float.BYTES, ORDER).mul(beta));
                }
                v.intoMemorySegment(c, (ci + j) * Float.BYTES, ORDER);
            }
            for (; j < cols; j++) {
                float v = alpha * tile.getAtIndex(JAVA_FLOAT, t + j);
                if (beta != 0f) {
                    v = v + beta * c.getAtIndex(JAVA_FLOAT, ci + j);
                }
                c.setAtIndex(JAVA_FLOAT, ci + j, v);
            }
        }
    }

    @Override
    public void addBias(MemorySegment y, MemorySegment bias, int rowFrom, int rowTo, int cols) {
        int bound = FLOAT.loopBound(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector.fromMemorySegment(FLOAT, y, (row + j) * Float.BYTES, ORDER)
                        .add(FloatVector.fromMemorySegment(FLOAT, bias, j * Float.BYTES, ORDER))
                        .intoMemorySegment(y, (row + j) * Float.BYTES, ORDER);
            }
            for (; j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, y.getAtIndex(JAVA_FLOAT, row + j) + bias.getAtIndex(JAVA_FLOAT, j));
            }
        }
    }

    @Override
    public void biasGrad(MemorySegment dy, MemorySegment dBias, int rows, int cols, int colFrom, int colTo) {
        int j = colFrom;
        // each vector of columns walks all rows in order, as the scalar sum does per column
        for (int bound = colFrom + FLOAT.loopBound(colTo - colFrom); j < bound; j += L) {
            FloatVector s = FloatVector.zero(FLOAT);
            for (int r = 0; r < rows; r++) {
                s = s.add(FloatVector.fromMemorySegment(FLOAT, dy, ((long) r * cols + j) * Float.BYTES, ORDER));
            }
            FloatVector.fromMemorySegment(FLOAT, dBias, j * Float.BYTES, ORDER)
                    .add(s)
                    .intoMemorySegment(dBias, j * Float.BYTES, ORDER);
        }
        EDGES.biasGrad(dy, dBias, rows, cols, j, colTo);
    }
}
