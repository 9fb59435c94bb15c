package dev.panamaformer.kernels;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * Per-call state (a job object and its scratch memory) for kernels that many threads may call at
 * once: each call takes one, uses it alone, and gives it back. A caller alone finds the one it
 * gave back, so its calls allocate nothing after the first; concurrent callers get one each,
 * created on demand, and any idle one serves any thread. Up to {@code slots} idle ones are kept,
 * the rest dropped for the collector (their memory comes from automatic arenas), so what stays
 * is at most {@code slots} jobs, each grown to the largest call it served.
 *
 * <p>Lock-free: a taker claims a slot by compare-and-set, so no caller waits for another, and a
 * pool that serves one thread stays a few uncontended atomic operations per call.
 */
final class ScratchPool<T> {
    private final AtomicReferenceArray<T> idle;
    private final Supplier<T> create;

    ScratchPool(int slots, Supplier<T> create) {
        this.idle = new AtomicReferenceArray<>(slots);
        this.create = create;
    }

    /** As many idle slots as threads may sensibly call one kernel family at once. */
    static int defaultSlots() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    /** An idle item, or a new one when every kept one is in use. */
    T take() {
        for (int i = 0; i < idle.length(); i++) {
            T item = idle.get(i);
            if (item != null && idle.compareAndSet(i, item, null)) {
                return item;
            }
        }
        return create.get();
    }

    /** Returns {@code item}, which the caller must no longer use, to the pool (or drops it when the pool is full). */
    void give(T item) {
        for (int i = 0; i < idle.length(); i++) {
            if (idle.get(i) == null && idle.compareAndSet(i, null, item)) {
                return;
            }
        }
    }
}
