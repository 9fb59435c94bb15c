package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * One score row's share of a {@link PositionBias}: the bias of key {@code j} is the table entry at
 * {@code center + clamp(keyIds[keyFrom + j] - queryId, -span, span)}, where {@code center} is the
 * head's row of the table plus span. Single-threaded; offsets count floats.
 */
interface BiasKernel {
    /** {@code s[j] += table[entry(j)]} for {@code j < n}. */
    void add(MemorySegment s, long sOff, MemorySegment table, long center, int span, int[] keyIds, int keyFrom, int queryId,
             int n);

    /**
     * {@code dTable[entry(j)] = fma(factor, ds[j], dTable[entry(j)])} for {@code j} from 0 to
     * {@code n - 1} in that order, so an entry several keys share sums them in key order.
     */
    void grad(MemorySegment ds, long dsOff, float factor, MemorySegment dTable, long center, int span, int[] keyIds,
              int keyFrom, int queryId, int n);
}
