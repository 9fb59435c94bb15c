package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** The block steps of fused attention, one float at a time. */
final class ScalarAttention implements AttentionKernel {
    /** Zeroes rows: the element-wise kernel of the same kind. */
    private static final ScalarElementwise ROWS = new ScalarElementwise();

    @Override
    public void product(int m, int n, int k, MemorySegment a, long aOff, int aRowStride, int aColStride,
                        MemorySegment b, long bOff, int ldb, boolean accumulate, MemorySegment c, long cOff, int ldc,
                        MemorySegment tile) {
        for (int i = 0; i < m; i++) {
            long ci = cOff + (long) i * ldc;
            if (!accumulate) {
                ROWS.zero(c, ci, n);
            }
            for (int p = 0; p < k; p++) {
                float ai = a.getAtIndex(JAVA_FLOAT, aOff + (long) i * aRowStride + (long) p * aColStride);
                long bp = bOff + (long) p * ldb;
                for (int j = 0; j < n; j++) {
                    c.setAtIndex(JAVA_FLOAT, ci + j, c.getAtIndex(JAVA_FLOAT, ci + j) + ai * b.getAtIndex(JAVA_FLOAT, bp + j));
                }
            }
        }
    }

    @Override
    public int tileFloats() {
        return 1;
    }

    @Override
    public void transpose(MemorySegment x, long xOff, int ldx, int rows, int cols, float scale, MemorySegment y, long yOff,
                          int ldy) {
        // in tiles, so that both the rows read and the rows written stay in L1
        int tile = 32;
        for (int i0 = 0; i0 < rows; i0 += tile) {
            for (int j0 = 0; j0 < cols; j0 += tile) {
                for (int i = i0, iEnd = Math.min(rows, i0 + tile); i < iEnd; i++) {
                    for (int j = j0, jEnd = Math.min(cols, j0 + tile); j < jEnd; j++) {
                        y.setAtIndex(JAVA_FLOAT, yOff + (long) j * ldy + i, scale * x.getAtIndex(JAVA_FLOAT, xOff + (long) i * ldx + j));
                    }
                }
            }
        }
    }

    @Override
    public float addMaskMax(MemorySegment s, long sOff, MemorySegment mask, long maskOff, int n) {
        float max = ScalarSoftmax.LOWEST;
        for (int j = 0; j < n; j++) {
            float v = s.getAtIndex(JAVA_FLOAT, sOff + j);
            if (mask != null) {
                v += mask.getAtIndex(JAVA_FLOAT, maskOff + j);
                s.setAtIndex(JAVA_FLOAT, sOff + j, v);
            }
            max = Math.max(max, v);
        }
        return max;
    }

    @Override
    public float expSum(MemorySegment s, long sOff, int n, int width, float shift) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(s.getAtIndex(JAVA_FLOAT, sOff + j) - shift);
            s.setAtIndex(JAVA_FLOAT, sOff + j, e);
            sum += e;
        }
        ROWS.zero(s, sOff + n, width - n);
        return sum;
    }

    @Override
    public void scoreGrad(MemorySegment p, MemorySegment dropped, long off, MemorySegment dp, long dpOff, int n, float rowDot,
                          float keepScale, float scale) {
        for (int j = 0; j < n; j++) {
            float g = dropped.getAtIndex(JAVA_FLOAT, off + j) != 0f ? dp.getAtIndex(JAVA_FLOAT, dpOff + j) * keepScale : 0f;
            dp.setAtIndex(JAVA_FLOAT, dpOff + j, scale * p.getAtIndex(JAVA_FLOAT, off + j) * (g - rowDot));
        }
    }
}
