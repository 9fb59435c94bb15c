package dev.panamaformer.model;

import dev.panamaformer.kernels.RotaryTable;
import java.lang.foreign.Arena;

/**
 * A model's RoPE angles, computed for the positions in use when first needed, as the sinusoid
 * table is: a table for every position a config allows (2^31 - 1 of them, say) would be built
 * before any input is seen. Decoding sessions ask from many threads; a table that grows is
 * replaced whole, the old one stays valid for whoever still reads it (both in the model's arena).
 */
final class RotaryAngles {
    private final Arena arena;
    private final int headSize;
    private final int maxPositions;
    private volatile RotaryTable table;

    RotaryAngles(Arena arena, int headSize, int maxPositions) {
        this.arena = arena;
        this.headSize = headSize;
        this.maxPositions = maxPositions;
    }

    /** A table of at least {@code positions} positions (at most the config's). */
    RotaryTable covering(int positions) {
        RotaryTable t = table;
        return t != null && t.positions() >= positions ? t : grow(positions);
    }

    private synchronized RotaryTable grow(int positions) {
        RotaryTable t = table;
        if (t == null || t.positions() < positions) {
            // doubling, so that decoding one position at a time builds the table a few times, not per step
            int rows = (int) Math.min(maxPositions, Math.max(positions, t == null ? 16L : 2L * t.positions()));
            t = RotaryTable.of(arena, rows, headSize, RotaryTable.BASE, 1);
            table = t;
        }
        return t;
    }
}
