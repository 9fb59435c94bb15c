package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** Softmax with the online normalizer of Milakov and Gimelshein (2018), one element at a time. */
final class ScalarSoftmax implements SoftmaxKernel {
    /** The running max starts here rather than at -inf, so that (-inf) - (-inf) never makes a NaN. */
    static final float LOWEST = -Float.MAX_VALUE;

    /** A row's max and normalizer, packed into one long so that the hot path allocates nothing. */
    static long pack(float max, float norm) {
        return ((long) Float.floatToRawIntBits(max) << 32) | (Float.floatToRawIntBits(norm) & 0xFFFF_FFFFL);
    }

    static float max(long packed) {
        return Float.intBitsToFloat((int) (packed >>> 32));
    }

    static float norm(long packed) {
        return Float.intBitsToFloat((int) packed);
    }

    /** One pass over columns {@code [0, limit)}: the running max, and the sum of exp(v - max) rescaled as it grows. */
    static long normalizer(MemorySegment x, long row, int limit, MemorySegment mask, long maskRow) {
        float max = LOWEST, norm = 0f;
        for (int j = 0; j < limit; j++) {
            float v = score(x, row + j, mask, maskRow + j);
            if (v > max) {
                norm = norm * (float) Math.exp(max - v) + 1f;
                max = v;
            } else {
                norm += (float) Math.exp(v - max);
            }
        }
        return pack(max, norm);
    }

    private static float score(MemorySegment x, long i, MemorySegment mask, long maskIndex) {
        float v = x.getAtIndex(JAVA_FLOAT, i);
        return mask == null ? v : v + mask.getAtIndex(JAVA_FLOAT, maskIndex);
    }

    /** Columns {@code [0, limit)} of row {@code r} take part; {@code limit} may be negative. */
    static int causalLimit(int r, int cols, int causalPeriod) {
        return causalPeriod > 0 ? Math.min(cols, r % causalPeriod + cols - causalPeriod + 1) : cols;
    }

    @Override
    public void forward(MemorySegment x, MemorySegment y, int rowFrom, int rowTo, int cols,
                        MemorySegment mask, int rowsPerMaskRow, int causalPeriod) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            long maskRow = mask == null ? 0 : (long) (r / rowsPerMaskRow) * cols;
            int limit = causalLimit(r, cols, causalPeriod);
            long mn = normalizer(x, row, limit, mask, maskRow);
            float max = max(mn), norm = norm(mn);
            float inv = norm > 0f ? 1f / norm : 0f;
            for (int j = 0; j < limit; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, (float) Math.exp(score(x, row + j, mask, maskRow + j) - max) * inv);
            }
            for (int j = Math.max(limit, 0); j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, 0f);
            }
        }
    }

    @Override
    public void backward(MemorySegment y, MemorySegment dy, MemorySegment dx, int rowFrom, int rowTo, int cols) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            float dot = 0f;
            for (int j = 0; j < cols; j++) {
                dot += y.getAtIndex(JAVA_FLOAT, row + j) * dy.getAtIndex(JAVA_FLOAT, row + j);
            }
            for (int j = 0; j < cols; j++) {
                long i = row + j;
                dx.setAtIndex(JAVA_FLOAT, i, dx.getAtIndex(JAVA_FLOAT, i)
                        + y.getAtIndex(JAVA_FLOAT, i) * (dy.getAtIndex(JAVA_FLOAT, i) - dot));
            }
        }
    }

    @Override
    public void logForward(MemorySegment x, MemorySegment y, int rowFrom, int rowTo, int cols) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            long mn = normalizer(x, row, cols, null, 0);
            float max = max(mn), logNorm = (float) Math.log(norm(mn));
            for (int j = 0; j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, x.getAtIndex(JAVA_FLOAT, row + j) - max - logNorm);
            }
        }
    }

    @Override
    public void nllBackward(MemorySegment logProbs, int[] targets, int ignoreIndex, float scale, MemorySegment dLogits,
                            int rowFrom, int rowTo, int cols) {
        for (int r = rowFrom; r < rowTo; r++) {
            int target = targets[r];
            if (target == ignoreIndex) {
                continue;
            }
            long row = (long) r * cols;
            for (int j = 0; j < cols; j++) {
                float g = (float) Math.exp(logProbs.getAtIndex(JAVA_FLOAT, row + j));
                if (j == target) {
                    g -= 1f;
                }
                dLogits.setAtIndex(JAVA_FLOAT, row + j, dLogits.getAtIndex(JAVA_FLOAT, row + j) + scale * g);
            }
        }
    }
}
