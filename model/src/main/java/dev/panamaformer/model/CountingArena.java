package dev.panamaformer.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A shared arena that counts the bytes allocated through it, so that a model can say what memory
 * it holds (a test checks that a model loaded for inference holds its values and tables alone).
 */
final class CountingArena implements Arena {
    private final Arena arena = Arena.ofShared();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong total;

    CountingArena() {
        this(new AtomicLong());
    }

    /** An arena that also adds what it allocates to {@code total}, shared by several arenas. */
    CountingArena(AtomicLong total) {
        this.total = total;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        MemorySegment segment = arena.allocate(byteSize, byteAlignment);
        bytes.addAndGet(byteSize);
        total.addAndGet(byteSize);
        return segment;
    }

    @Override
    public MemorySegment.Scope scope() {
        return arena.scope();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Bytes allocated so far. */
    long bytes() {
        return bytes.get();
    }
}
