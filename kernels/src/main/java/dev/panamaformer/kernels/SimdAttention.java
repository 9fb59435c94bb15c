package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The block steps of fused attention on the Vector API. Products run {@link SimdTile}'s register
 * tile straight on the blocks (broadcasts of A through its strides, rows of B), with the last
 * tile's rows again for the rows below it, one-vector column tiles and masked vectors at the
 * edges; row steps are a vector body and the scalar twin's loop for the tail.
 */
final class SimdAttention implements AttentionKernel {
    /** Zeroes rows: the element-wise kernel of the same kind. */
    private static final SimdElementwise ROWS = new SimdElementwise();
    private static final int L = FLOAT.length();
    private static final ScalarAttention TAIL = new ScalarAttention();
    private static final int MR = SimdTile.MR;
    private static final int NR = SimdTile.NR;
    /** Rows of {@link #columnTile}: one B vector feeds six FMAs. */
    private static final int COLUMN_ROWS = 6;

    @Override
    public int tileFloats() {
        return SimdTile.SIZE;
    }

    @Override
    public void product(int m, int n, int k, MemorySegment a, long aOff, int aRowStride, int aColStride,
                        MemorySegment b, long bOff, int ldb, boolean accumulate, MemorySegment c, long cOff, int ldc,
                        MemorySegment tile) {
        // a product of fewer rows than a tile is all edge: one-vector columns below
        int rows = m - m % MR, cols = m >= MR ? n - n % NR : 0;
        for (int j = 0; j < cols; j += NR) {
            for (int i = 0; i < rows; i += MR) {
                long ai = aOff + (long) i * aRowStride, ci = cOff + (long) i * ldc + j;
                if (accumulate) {
                    SimdTile.multiply(k, a, ai, aRowStride, aColStride, b, bOff + j, ldb, tile, 0, NR);
                    SimdTile.writeBack(tile, 0, NR, 1f, 1f, c, ci, ldc, MR, NR);
                } else {
                    SimdTile.multiply(k, a, ai, aRowStride, aColStride, b, bOff + j, ldb, c, ci, ldc);
                }
            }
        }
        // the edges below add into C
        if (!accumulate) {
            for (int i = 0; i < m; i++) {
                int from = i < rows ? cols : 0;
                ROWS.zero(c, cOff + (long) i * ldc + from, n - from);
            }
        }
        // rows below the last full tile: the last MR rows once more into the tile buffer, of which
        // only the rows not yet in C are added; each element sums over k in the same order as in
        // a full tile, so it has the same bits
        if (rows < m) {
            long ai = aOff + (long) (m - MR) * aRowStride;
            for (int j = 0; j < cols; j += NR) {
                SimdTile.multiply(k, a, ai, aRowStride, aColStride, b, bOff + j, ldb, tile, 0, NR);
                SimdTile.writeBack(tile, MR - (m - rows), NR, 1f, 1f, c, cOff + (long) rows * ldc + j, ldc, m - rows, NR);
            }
        }
        int j = cols;
        // columns right of a full NR: one vector wide, six rows at a time (d_k = 32 at 512 bits
        // is all edge; one B load per six FMAs keeps the FMA unit the bottleneck)
        for (; j + L <= n; j += L) {
            int i = 0;
            for (; i + COLUMN_ROWS <= m; i += COLUMN_ROWS) {
                columnTile(k, a, aOff + (long) i * aRowStride, aRowStride, aColStride, b, bOff + j, ldb,
                        c, cOff + (long) i * ldc + j, ldc);
            }
            for (; i < m; i++) {
                long ai = aOff + (long) i * aRowStride, ci = (cOff + (long) i * ldc + j) * Float.BYTES;
                FloatVector acc = FloatVector.fromMemorySegment(FLOAT, c, ci, ORDER);
                for (int p = 0; p < k; p++) {
                    FloatVector bv = FloatVector.fromMemorySegment(FLOAT, b, (bOff + (long) p * ldb + j) * Float.BYTES, ORDER);
                    acc = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ai + (long) p * aColStride)), acc);
                }
                acc.intoMemorySegment(c, ci, ORDER);
            }
        }
        if (j < n) {
            VectorMask<Float> lanes = FLOAT.indexInRange(j, n);
            for (int i = 0; i < m; i++) {
                long ai = aOff + (long) i * aRowStride, ci = (cOff + (long) i * ldc + j) * Float.BYTES;
                FloatVector acc = FloatVector.fromMemorySegment(FLOAT, c, ci, ORDER, lanes);
                for (int p = 0; p < k; p++) {
                    FloatVector bv = FloatVector.fromMemorySegment(FLOAT, b, (bOff + (long) p * ldb + j) * Float.BYTES, ORDER, lanes);
                    acc = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ai + (long) p * aColStride)), acc);
                }
                acc.intoMemorySegment(c, ci, ORDER, lanes);
            }
        }
    }

    /** C (COLUMN_ROWS rows, one vector) += the product: 6 accumulators. */
    private static void columnTile(int k, MemorySegment a, long aOff, int ars, int acs, MemorySegment b, long bOff, int ldb,
                                   MemorySegment c, long cOff, int ldc) {
        long c0 = cOff * Float.BYTES, c1 = (cOff + ldc) * Float.BYTES, c2 = (cOff + 2L * ldc) * Float.BYTES;
        long c3 = (cOff + 3L * ldc) * Float.BYTES, c4 = (cOff + 4L * ldc) * Float.BYTES, c5 = (cOff + 5L * ldc) * Float.BYTES;
        FloatVector s0 = FloatVector.fromMemorySegment(FLOAT, c, c0, ORDER);
        FloatVector s1 = FloatVector.fromMemorySegment(FLOAT, c, c1, ORDER);
        FloatVector s2 = FloatVector.fromMemorySegment(FLOAT, c, c2, ORDER);
        FloatVector s3 = FloatVector.fromMemorySegment(FLOAT, c, c3, ORDER);
        FloatVector s4 = FloatVector.fromMemorySegment(FLOAT, c, c4, ORDER);
        FloatVector s5 = FloatVector.fromMemorySegment(FLOAT, c, c5, ORDER);
        long ap = aOff;
        for (int p = 0; p < k; p++, ap += acs) {
            FloatVector bv = FloatVector.fromMemorySegment(FLOAT, b, (bOff + (long) p * ldb) * Float.BYTES, ORDER);
            s0 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap)), s0);
            s1 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + ars)), s1);
            s2 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 2L * ars)), s2);
            s3 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 3L * ars)), s3);
            s4 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 4L * ars)), s4);
            s5 = bv.fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 5L * ars)), s5);
        }
        s0.intoMemorySegment(c, c0, ORDER);
        s1.intoMemorySegment(c, c1, ORDER);
        s2.intoMemorySegment(c, c2, ORDER);
        s3.intoMemorySegment(c, c3, ORDER);
        s4.intoMemorySegment(c, c4, ORDER);
        s5.intoMemorySegment(c, c5, ORDER);
    }

    @Override
    public void transpose(MemorySegment x, long xOff, int ldx, int rows, int cols, float scale, MemorySegment y, long yOff,
                          int ldy) {
        // O(T d) against the O(T² d) products that read the result: the scalar twin's tiles serve
        TAIL.transpose(x, xOff, ldx, rows, cols, scale, y, yOff, ldy);
    }

    @Override
    public float addMaskMax(MemorySegment s, long sOff, MemorySegment mask, long maskOff, int n) {
        FloatVector m0 = FloatVector.broadcast(FLOAT, ScalarSoftmax.LOWEST), m1 = m0;
        int j = 0;
        // two running maxima: max has a latency of several cycles and the row is in L1
        for (int bound = n - 2 * L; j <= bound; j += 2 * L) {
            FloatVector v0 = FloatVector.fromMemorySegment(FLOAT, s, (sOff + j) * Float.BYTES, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(FLOAT, s, (sOff + j + L) * Float.BYTES, ORDER);
            if (mask != null) {
                v0 = v0.add(FloatVector.fromMemorySegment(FLOAT, mask, (maskOff + j) * Float.BYTES, ORDER));
                v1 = v1.add(FloatVector.fromMemorySegment(FLOAT, mask, (maskOff + j + L) * Float.BYTES, ORDER));
                v0.intoMemorySegment(s, (sOff + j) * Float.BYTES, ORDER);
                v1.intoMemorySegment(s, (sOff + j + L) * Float.BYTES, ORDER);
            }
            m0 = m0.max(v0);
            m1 = m1.max(v1);
        }
        float max = m0.max(m1).reduceLanes(VectorOperators.MAX);
        return Math.max(max, TAIL.addMaskMax(s, sOff + j, mask, maskOff + j, n - j));
    }

    @Override
    public float expSum(MemorySegment s, long sOff, int n, int width, float shift) {
        FloatVector sum = FloatVector.zero(FLOAT);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            FloatVector e = SimdMath.expNonPositive(FloatVector.fromMemorySegment(FLOAT, s, (sOff + j) * Float.BYTES, ORDER).sub(shift));
            e.intoMemorySegment(s, (sOff + j) * Float.BYTES, ORDER);
            sum = sum.add(e);
        }
        // the lanes added in SimdSpecies' butterfly order, written out: a vector passed to a helper C2 leaves
        // out of line (as it may where the call is rare next to the loop before it) is boxed
        FloatVector t = sum;
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
        // the tail and the zeros past n: the scalar twin's loop
        return t.lane(0) + TAIL.expSum(s, sOff + j, n - j, width - j, shift);
    }

    @Override
    public void scoreGrad(MemorySegment p, MemorySegment dropped, long off, MemorySegment dp, long dpOff, int n, float rowDot,
                          float keepScale, float scale) {
        FloatVector zero = FloatVector.zero(FLOAT);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            VectorMask<Float> kept = FloatVector.fromMemorySegment(FLOAT, dropped, (off + j) * Float.BYTES, ORDER)
                    .compare(VectorOperators.NE, 0f);
            FloatVector g = zero.blend(FloatVector.fromMemorySegment(FLOAT, dp, (dpOff + j) * Float.BYTES, ORDER).mul(keepScale), kept);
            FloatVector.fromMemorySegment(FLOAT, p, (off + j) * Float.BYTES, ORDER).mul(scale).mul(g.sub(rowDot))
                    .intoMemorySegment(dp, (dpOff + j) * Float.BYTES, ORDER);
        }
        TAIL.scoreGrad(p, dropped, off + j, dp, dpOff + j, n - j, rowDot, keepScale, scale);
    }
}
