package dev.panamaformer.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A shared arena that counts the bytes allocated through it, so that a model can say what memory
 * it holds (and a test can check that inference allocates no gradients).
 */
final class CountingArena implements Arena {
    private final Arena arena = Arena.ofShared();
    private final AtomicLong bytes = new AtomicLong();

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        MemorySegment segment = arena.allocate(byteSize, byteAlignment);
        bytes.addAndGet(byteSize);
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
