package dev.panamaformer.model;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Catches a second thread entering an object that serves one thread at a time, such as a
 * {@link Transformer}, whose buffers a call overwrites: one compare-and-set on entry and a store
 * on exit, not a lock. Calls may nest on the thread that holds it. Overlapping use from two
 * threads throws instead of returning numbers computed from each other's buffers.
 */
final class SingleThreadGuard {
    private final String what;
    private final AtomicReference<Thread> holder = new AtomicReference<>();
    private int depth; // touched only by the holder

    SingleThreadGuard(String what) {
        this.what = what;
    }

    /** Marks {@code call} in progress on this thread; throws if another thread's call is. */
    void enter(String call) {
        Thread me = Thread.currentThread();
        if (holder.get() == me) {
            depth++;
            return;
        }
        if (!holder.compareAndSet(null, me)) {
            Thread other = holder.get();
            throw new IllegalStateException(call + " on thread '" + me.getName() + "' while thread '"
                    + (other == null ? "(just finished)" : other.getName()) + "' is using this " + what + "; a " + what
                    + " serves one thread at a time: give each thread its own, or call it under one lock");
        }
        depth = 1;
    }

    /** Ends the call {@link #enter} began; the caller does this in a finally block. */
    void exit() {
        if (holder.get() != Thread.currentThread()) {
            throw new IllegalStateException("exit without enter on thread '" + Thread.currentThread().getName() + "'");
        }
        if (--depth == 0) {
            holder.set(null);
        }
    }
}
