package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.ScalarSoftmax.LOWEST;
import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
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

    /** Max and normalizer of columns {@code [0, limit)}, packed as in {@link ScalarSoftmax#pack}. */
    private static long normalizer(MemorySegment x, long row, int limit, MemorySegment mask, long maskRow) {
        float max = LOWEST, norm = 0f;
        int j = 0, bound = FLOAT.loopBound(limit);
        // The vectors live inside this block only, and its loop runs at least once: no vector
        // reaches a merge with a path that skipped the loop. Where one did (the loop's zero-trip
        // exit, for rows shorter than a vector), C2 sometimes compiled the method with the
        // starting vectors boxed, three heap objects per row for the rest of the JVM: 2.4 MB per
        // addition step under AVX2 in one JVM of six, JFR's allocation samples all here.
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(FLOAT, LOWEST), d = FloatVector.zero(FLOAT);
            // One exp per element: with n = max(m, v), one of exp(m - n) and exp(v - n) is exp(0) = 1
            // and the other is exp(-|v - m|). Fewer exp sites also keep the method within C2's node
            // budget; past it C2 stops inlining exp and boxes every vector on the heap.
            FloatVector one = FloatVector.broadcast(FLOAT, 1f);
            do {
                FloatVector v = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER);
                if (mask != null) {
                    v = v.add(FloatVector.fromMemorySegment(FLOAT, mask, (maskRow + j) * Float.BYTES, ORDER));
                }
                // e = exp(-|v - m|) written out here (SimdMath.expNonPositive's steps): a call with a
                // vector argument boxes it when C2 declines to inline, and C2 declines once the callee
                // has compiled code of its own over InlineSmallCode (seen: 63.5 KB per parser step)
                FloatVector gap = v.sub(m).abs().neg();
                FloatVector clamped = gap.max(SimdMath.SMALLEST_NORMAL_EXP);
                FloatVector t = clamped.fma(SimdMath.LOG2E, SimdMath.ROUND);
                FloatVector n = t.sub(SimdMath.ROUND);
                FloatVector r = n.mul(-SimdMath.LN2_HI).add(clamped).sub(n.mul(SimdMath.LN2_LO));
                FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f)
                        .fma(r, FloatVector.broadcast(FLOAT, 8.3334519073e-3f))
                        .fma(r, FloatVector.broadcast(FLOAT, 4.1665795894e-2f))
                        .fma(r, FloatVector.broadcast(FLOAT, 1.6666665459e-1f))
                        .fma(r, FloatVector.broadcast(FLOAT, 5.0000001201e-1f));
                FloatVector twoToN = t.reinterpretAsInts().sub(SimdMath.ROUND_BITS - 127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector e = p.fma(r.mul(r), r.add(1f)).mul(twoToN)
                        .blend(0f, gap.compare(VectorOperators.LT, SimdMath.SMALLEST_NORMAL_EXP));
                // a larger score rescales the old sum by e and counts itself as 1; a smaller one adds e
                d = d.add(e).blend(d.fma(e, one), v.compare(VectorOperators.GT, m));
                m = m.max(v);
                j += L;
            } while (j < bound);
            // merge the lanes in order, in scalar code: a second vector exp here exhausted the budget
            max = m.reduceLanes(VectorOperators.MAX);
            for (int lane = 0; lane < L; lane++) {
                norm += d.lane(lane) * (float) Math.exp(m.lane(lane) - max);
            }
        }
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
                FloatVector v = FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER);
                if (mask != null) {
                    v = v.add(FloatVector.fromMemorySegment(FLOAT, mask, (maskRow + j) * Float.BYTES, ORDER));
                }
                SimdMath.exp(v.sub(max)).mul(inv).intoMemorySegment(y, (row + j) * Float.BYTES, ORDER);
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
                zero.intoMemorySegment(y, (row + j) * Float.BYTES, ORDER);
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
                s0 = FloatVector.fromMemorySegment(FLOAT, y, (row + j) * Float.BYTES, ORDER)
                        .fma(FloatVector.fromMemorySegment(FLOAT, dy, (row + j) * Float.BYTES, ORDER), s0);
                s1 = FloatVector.fromMemorySegment(FLOAT, y, (row + j + L) * Float.BYTES, ORDER)
                        .fma(FloatVector.fromMemorySegment(FLOAT, dy, (row + j + L) * Float.BYTES, ORDER), s1);
            }
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                s0 = FloatVector.fromMemorySegment(FLOAT, y, (row + j) * Float.BYTES, ORDER)
                        .fma(FloatVector.fromMemorySegment(FLOAT, dy, (row + j) * Float.BYTES, ORDER), s0);
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
            float dot = t.lane(0);
            for (; j < cols; j++) {
                dot += y.getAtIndex(JAVA_FLOAT, row + j) * dy.getAtIndex(JAVA_FLOAT, row + j);
            }
            j = 0;
            for (int bound = FLOAT.loopBound(cols); j < bound; j += L) {
                long i = row + j;
                FloatVector.fromMemorySegment(FLOAT, y, i * Float.BYTES,
                        ORDER).fma(FloatVector.fromMemorySegment(FLOAT, dy, i * Float.BYTES, ORDER).sub(dot),
                        FloatVector.fromMemorySegment(FLOAT, dx, i * Float.BYTES, ORDER)).intoMemorySegment(dx,
                        i * Float.BYTES, ORDER);
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
                FloatVector.fromMemorySegment(FLOAT, x, (row + j) * Float.BYTES, ORDER)
                        .sub(max)
                        .sub(logNorm)
                        .intoMemorySegment(y, (row + j) * Float.BYTES, ORDER);
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
                SimdMath.exp(FloatVector.fromMemorySegment(FLOAT, logProbs, (row + j) * Float.BYTES, ORDER))
                        .mul(scale)
                        .add(FloatVector.fromMemorySegment(FLOAT, dLogits, (row + j) * Float.BYTES, ORDER))
                        .intoMemorySegment(dLogits, (row + j) * Float.BYTES, ORDER);
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
