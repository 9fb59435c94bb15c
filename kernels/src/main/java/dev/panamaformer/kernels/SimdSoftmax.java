package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.ScalarSoftmax.LOWEST;
import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.load;
import static dev.panamaformer.kernels.SimdSpecies.store;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Softmax on the Vector API. The online normalizer runs per lane: each lane keeps its own running
 * max and rescaled sum, and the lanes are merged once at the end of the row.
 */
final class SimdSoftmax implements SoftmaxKernel {
    private static final int L = FLOAT.length();

    private static FloatVector score(MemorySegment x, long i, MemorySegment mask, long maskIndex) {
        FloatVector v = load(x, i);
        return mask == null ? v : v.add(load(mask, maskIndex));
    }

    private static FloatVector exp(FloatVector v) {
        return SimdMath.exp(v);
    }

    /** Max and normalizer of columns {@code [0, limit)}, packed as in {@link ScalarSoftmax#pack}. */
    private static long normalizer(MemorySegment x, long row, int limit, MemorySegment mask, long maskRow) {
        FloatVector m = FloatVector.broadcast(FLOAT, LOWEST), d = FloatVector.zero(FLOAT);
        int j = 0;
        // Four vectors share one rescale of the running sum: 5 exps per 4 vectors instead of 8,
        // and the four exps of the new scores are independent.
        for (int bound = limit - 4 * L; j <= bound; j += 4 * L) {
            FloatVector v0 = score(x, row + j, mask, maskRow + j);
            FloatVector v1 = score(x, row + j + L, mask, maskRow + j + L);
            FloatVector v2 = score(x, row + j + 2 * L, mask, maskRow + j + 2 * L);
            FloatVector v3 = score(x, row + j + 3 * L, mask, maskRow + j + 3 * L);
            FloatVector n = m.max(v0.max(v1)).max(v2.max(v3));
            FloatVector e = exp(v0.sub(n)).add(exp(v1.sub(n))).add(exp(v2.sub(n)).add(exp(v3.sub(n))));
            d = d.fma(exp(m.sub(n)), e);
            m = n;
        }
        for (int bound = FLOAT.loopBound(limit); j < bound; j += L) {
            FloatVector v = score(x, row + j, mask, maskRow + j);
            FloatVector n = m.max(v);
            d = d.fma(exp(m.sub(n)), exp(v.sub(n)));
            m = n;
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        float norm = SimdSpecies.sum(d.mul(exp(m.sub(max))));
        for (; j < limit; j++) {
            float v = x.getAtIndex(JAVA_FLOAT, row + j);
            if (mask != null) {
                v += mask.getAtIndex(JAVA_FLOAT, maskRow + j);
            }
            if (v > max) {
                norm = norm * (float) Math.exp(max - v) + 1f;
                max = v;
            } else {
                norm += (float) Math.exp(v - max);
            }
        }
        return ScalarSoftmax.pack(max, norm);
    }

    @Override
    public void forward(MemorySegment x, MemorySegment y, int rowFrom, int rowTo, int cols,
                        MemorySegment mask, int rowsPerMaskRow, int causalPeriod) {
        FloatVector zero = FloatVector.zero(FLOAT);
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            long maskRow = mask == null ? 0 : (long) (r / rowsPerMaskRow) * cols;
            int limit = ScalarSoftmax.causalLimit(r, cols, causalPeriod);
            long mn = normalizer(x, row, limit, mask, maskRow);
            float max = ScalarSoftmax.max(mn), norm = ScalarSoftmax.norm(mn);
            float inv = norm > 0f ? 1f / norm : 0f;
            int j = 0;
            for (int bound = FLOAT.loopBound(limit); j < bound; j += L) {
                store(exp(score(x, row + j, mask, maskRow + j).sub(max)).mul(inv), y, row + j);
            }
            for (; j < limit; j++) {
                float v = x.getAtIndex(JAVA_FLOAT, row + j);
                if (mask != null) {
                    v += mask.getAtIndex(JAVA_FLOAT, maskRow + j);
                }
                y.setAtIndex(JAVA_FLOAT, row + j, (float) Math.exp(v - max) * inv);
            }
            j = Math.max(limit, 0);
            for (int bound = j + FLOAT.loopBound(cols - j); j < bound; j += L) {
                store(zero, y, row + j);
            }
            for (; j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, 0f);
            }
        }
    }

    @Override
    public void backward(MemorySegment y, MemorySegment dy, MemorySegment dx, int rowFrom, int rowTo, int cols) {
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0;
            int j = 0;
            for (int bound = cols - 2 * L; j <= bound; j += 2 * L) {
                s0 = load(y, row + j).fma(load(dy, row + j), s0);
                s1 = load(y, row + j + L).fma(load(dy, row + j + L), s1);
            }
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                s0 = load(y, row + j).fma(load(dy, row + j), s0);
            }
            float dot = SimdSpecies.sum(s0.add(s1));
            for (; j < cols; j++) {
                dot += y.getAtIndex(JAVA_FLOAT, row + j) * dy.getAtIndex(JAVA_FLOAT, row + j);
            }
            j = 0;
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                long i = row + j;
                store(load(y, i).fma(load(dy, i).sub(dot), load(dx, i)), dx, i);
            }
            for (; j < cols; j++) {
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
            float max = ScalarSoftmax.max(mn), logNorm = (float) Math.log(ScalarSoftmax.norm(mn));
            int j = 0;
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                store(load(x, row + j).sub(max).sub(logNorm), y, row + j);
            }
            for (; j < cols; j++) {
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
            int j = 0;
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                store(exp(load(logProbs, row + j)).mul(scale).add(load(dLogits, row + j)), dLogits, row + j);
            }
            for (; j < cols; j++) {
                float g = (float) Math.exp(logProbs.getAtIndex(JAVA_FLOAT, row + j));
                dLogits.setAtIndex(JAVA_FLOAT, row + j, dLogits.getAtIndex(JAVA_FLOAT, row + j) + scale * g);
            }
            long t = row + target;
            dLogits.setAtIndex(JAVA_FLOAT, t, dLogits.getAtIndex(JAVA_FLOAT, t) - scale);
        }
    }
}
