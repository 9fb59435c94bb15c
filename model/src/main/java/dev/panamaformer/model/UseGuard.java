package dev.panamaformer.model;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Catches uses of a {@link Transformer} that would overlap badly, without a lock: calls that
 * rewrite its buffers or weights (forward, backward, a training step) are exclusive, one thread at
 * a time; calls that only read its weights (the steps of decoding sessions, each with buffers of
 * its own) are shared, any number at once. An exclusive call while any other call is in progress,
 * or a shared one during an exclusive call, throws an {@link IllegalStateException} that says so,
 * instead of returning numbers computed from another thread's buffers or half-updated weights.
 * Calls nest on the thread that holds the exclusive use.
 */
final class UseGuard {
    /** Shared calls in progress, or -1 while an exclusive one is. */
    private final AtomicInteger users = new AtomicInteger();
    private volatile Thread exclusive;
    private int depth; // touched only by the exclusive holder

    /** Marks exclusive {@code call} in progress on this thread; throws if another call is. */
    void enterExclusive(String call) {
        Thread me = Thread.currentThread();
        if (exclusive == me) {
            depth++;
            return;
        }
        if (!users.compareAndSet(0, -1)) {
            throw busy(call, me);
        }
        exclusive = me;
        depth = 1;
    }

    /**
     * As {@link #enterExclusive}, but waits for other threads' calls to end, up to {@code patience};
     * then throws as it would. For calls that must not fail because another thread is busy, such as close.
     */
    void enterExclusiveWaiting(String call, java.time.Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                enterExclusive(call);
                return;
            } catch (IllegalStateException busy) {
                if (System.nanoTime() - deadline > 0) {
                    throw busy;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
        }
    }

    /** Ends the exclusive call {@link #enterExclusive} began; the caller does this in a finally block. */
    void exitExclusive() {
        if (exclusive != Thread.currentThread()) {
            throw new IllegalStateException("exit without enter on thread '" + Thread.currentThread().getName() + "'");
        }
        if (--depth == 0) {
            exclusive = null;
            users.set(0);
        }
    }

    /** Marks shared {@code call} in progress; throws during another thread's exclusive call. */
    void enterShared(String call) {
        Thread me = Thread.currentThread();
        if (exclusive == me) {
            depth++;
            return;
        }
        for (int n = users.get(); ; n = users.get()) {
            if (n < 0) {
                throw busy(call, me);
            }
            if (users.compareAndSet(n, n + 1)) {
                return;
            }
        }
    }

    /** Ends the shared call {@link #enterShared} began. */
    void exitShared() {
        if (exclusive == Thread.currentThread()) {
            depth--;
            return;
        }
        users.decrementAndGet();
    }

    private IllegalStateException busy(String call, Thread me) {
        Thread other = exclusive;
        int n = users.get();
        String what = n > 0 ? n + " decoding call" + (n == 1 ? " is" : "s are") + " reading its weights"
                : "thread '" + (other == null ? "(just finished)" : other.getName()) + "' is running or training it";
        return new IllegalStateException(call + " on thread '" + me.getName() + "' while " + what + "; a Transformer's forward,"
                + " backward and training steps serve one thread at a time and no decoding may run beside them: give each"
                + " thread its own model, or call it under one lock (decoding sessions may run side by side)");
    }
}
