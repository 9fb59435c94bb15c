package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.INT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * {@link BiasKernel} on the Vector API where a row's keys are numbered one after another (ids
 * {@code first, first + 1, ...}, as positions are unless a task numbers them otherwise) and no
 * distance is clamped: its biases are then one contiguous run of the table, read or added to a
 * vector at a time. Any other row takes {@link ScalarBias}'s loop. Both do one add (or FMA) per
 * key, so the results are the same bits.
 */
final class SimdBias implements BiasKernel {
    private static final int L = FLOAT.length();
    private static final ScalarBias SCALAR = new ScalarBias();

    @Override
    public void add(MemorySegment s, long sOff, MemorySegment table, long center, int span, int[] keyIds, int keyFrom,
                    int queryId, int n) {
        if (n == 0) {
            return;
        }
        if (!contiguous(keyIds, keyFrom, queryId, span, n)) {
            SCALAR.add(s, sOff, table, center, span, keyIds, keyFrom, queryId, n);
            return;
        }
        long t = center + ((long) keyIds[keyFrom] - queryId);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            long sj = (sOff + j) * Float.BYTES;
            FloatVector.fromMemorySegment(FLOAT, s, sj, ORDER)
                    .add(FloatVector.fromMemorySegment(FLOAT, table, (t + j) * Float.BYTES, ORDER))
                    .intoMemorySegment(s, sj, ORDER);
        }
        for (; j < n; j++) {
            s.setAtIndex(JAVA_FLOAT, sOff + j, s.getAtIndex(JAVA_FLOAT,
                    sOff + j) + table.getAtIndex(JAVA_FLOAT, t + j));
        }
    }

    @Override
    public void grad(MemorySegment ds, long dsOff, float factor, MemorySegment dTable, long center, int span, int[] keyIds,
                     int keyFrom, int queryId, int n) {
        if (n == 0) {
            return;
        }
        if (!contiguous(keyIds, keyFrom, queryId, span, n)) {
            SCALAR.grad(ds, dsOff, factor, dTable, center, span, keyIds, keyFrom, queryId, n);
            return;
        }
        long t = center + ((long) keyIds[keyFrom] - queryId);
        FloatVector f = FloatVector.broadcast(FLOAT, factor);
        int j = 0;
        for (int bound = FLOAT.loopBound(n); j < bound; j += L) {
            long tj = (t + j) * Float.BYTES;
            FloatVector.fromMemorySegment(FLOAT, ds, (dsOff + j) * Float.BYTES, ORDER)
                    .fma(f, FloatVector.fromMemorySegment(FLOAT, dTable, tj, ORDER))
                    .intoMemorySegment(dTable, tj, ORDER);
        }
        for (; j < n; j++) {
            dTable.setAtIndex(JAVA_FLOAT, t + j, Math.fma(factor,
                    ds.getAtIndex(JAVA_FLOAT, dsOff + j),
                    dTable.getAtIndex(JAVA_FLOAT, t + j)));
        }
    }

    /** Whether keys {@code [keyFrom, keyFrom + n)} are numbered first, first + 1, ... and every distance lies within the span. */
    private static boolean contiguous(int[] keyIds, int keyFrom, int queryId, int span, int n) {
        long first = keyIds[keyFrom];
        if (first - queryId < -span || first + n - 1 - queryId > span || first + n - 1 > Integer.MAX_VALUE) {
            return false;
        }
        int j = 0;
        IntVector step = IntVector.zero(INT).addIndex(1);
        for (int bound = INT.loopBound(n); j < bound; j += INT.length()) {
            IntVector expected = step.add((int) first + j);
            if (!IntVector.fromArray(INT, keyIds, keyFrom + j).eq(expected).allTrue()) {
                return false;
            }
        }
        for (; j < n; j++) {
            if (keyIds[keyFrom + j] != first + j) {
                return false;
            }
        }
        return true;
    }
}
