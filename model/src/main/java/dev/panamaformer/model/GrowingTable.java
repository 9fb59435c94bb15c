package dev.panamaformer.model;

import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * A table over positions (the sinusoids, RoPE's angles) computed for the positions in use when
 * first needed: a table for every position a config allows (2^31 - 1 of them, say) would be
 * built before any input is seen. Decoding sessions ask from many threads; a table that grows is
 * replaced whole (doubling, so that decoding one position at a time builds it a few times, not
 * per step), and the old one stays valid for whoever still reads it (both live in the model's
 * arena).
 */
final class GrowingTable<T> {
    private final int maxRows;
    private final IntFunction<T> build;
    private final ToIntFunction<T> rowsOf;
    private volatile T table;

    /** {@code build(n)} makes a table of n rows, {@code rowsOf} reads them back; never more than {@code maxRows}. */
    GrowingTable(int maxRows, IntFunction<T> build, ToIntFunction<T> rowsOf) {
        this.maxRows = maxRows;
        this.build = build;
        this.rowsOf = rowsOf;
    }

    /** A table of at least {@code needed} rows (at most {@code maxRows}). */
    T covering(int needed) {
        T t = table;
        return t != null && rowsOf.applyAsInt(t) >= needed ? t : grow(needed);
    }

    private synchronized T grow(int needed) {
        T t = table;
        if (t == null || rowsOf.applyAsInt(t) < needed) {
            int rows = (int) Math.min(maxRows, Math.max(needed, t == null ? 0 : 2L * rowsOf.applyAsInt(t)));
            t = build.apply(rows);
            table = t;
        }
        return t;
    }
}
