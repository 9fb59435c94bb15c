package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;

/** The plain loops of {@link BiasKernel}: the oracle of {@link SimdBias}, and its fallback. */
final class ScalarBias implements BiasKernel {
    @Override
    public void add(MemorySegment s, long sOff, MemorySegment table, long center, int span, int[] keyIds, int keyFrom,
                    int queryId, int n) {
        for (int j = 0; j < n; j++) {
            long e = center + distance(keyIds[keyFrom + j], queryId, span);
            s.setAtIndex(JAVA_FLOAT, sOff + j, s.getAtIndex(JAVA_FLOAT, sOff + j) + table.getAtIndex(JAVA_FLOAT, e));
        }
    }

    @Override
    public void grad(MemorySegment ds, long dsOff, float factor, MemorySegment dTable, long center, int span, int[] keyIds,
                     int keyFrom, int queryId, int n) {
        for (int j = 0; j < n; j++) {
            long e = center + distance(keyIds[keyFrom + j], queryId, span);
            dTable.setAtIndex(JAVA_FLOAT, e, Math.fma(factor, ds.getAtIndex(JAVA_FLOAT, dsOff + j), dTable.getAtIndex(JAVA_FLOAT, e)));
        }
    }

    /** {@code clamp(key - query, -span, span)}, in long so that no pair of ints overflows. */
    static long distance(int key, int query, int span) {
        return Math.clamp((long) key - query, -span, span);
    }
}
