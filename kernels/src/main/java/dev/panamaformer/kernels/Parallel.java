package dev.panamaformer.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Splits a range of independent work items across a fixed number of threads.
 *
 * <p>Every caller partitions work so that each output element is computed by exactly one task in
 * an order that does not depend on the partition, so results are bit-identical for any thread
 * count. The calling thread runs the first part itself.
 */
final class Parallel {
    /** Below this many multiply-adds (or comparable work) per part, a fork (some microseconds) costs more than it saves. */
    static final long MIN_WORK_PER_PART = 1L << 18;

    @FunctionalInterface
    interface RangeTask {
        void run(int from, int to);
    }

    /** A range task that also learns which part it is, to pick per-thread scratch memory. */
    @FunctionalInterface
    interface PartTask {
        void run(int part, int from, int to);
    }

    private static final Parallel SERIAL = new Parallel(1);

    private final int threads;
    private final ForkJoinPool pool;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1, Parallel::daemon, null, false);
    }

    private static ForkJoinWorkerThread daemon(ForkJoinPool pool) {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setDaemon(true);
        t.setName("panamaformer-kernels-" + t.getPoolIndex());
        return t;
    }

    /**
     * This instance when every tensor may be touched by worker threads, otherwise a serial one:
     * memory of a confined arena belongs to the calling thread alone.
     */
    Parallel over(FloatTensor... tensors) {
        if (threads == 1) {
            return this;
        }
        for (FloatTensor t : tensors) {
            if (t != null && !t.isShared()) {
                return SERIAL;
            }
        }
        return this;
    }

    int threads() {
        return threads;
    }

    /** How many parts {@code n} items of {@code workPerItem} each are worth splitting into. */
    int parts(int n, long workPerItem) {
        if (threads == 1 || n <= 1) {
            return 1;
        }
        long work = n * Math.max(1, workPerItem);
        return (int) Math.max(1, Math.min(Math.min(threads, n), work / MIN_WORK_PER_PART));
    }

    /** Runs {@code task} over {@code [0, n)} split into {@code parts(n, workPerItem)} contiguous ranges. */
    void forRange(int n, long workPerItem, RangeTask task) {
        int parts = parts(n, workPerItem);
        if (parts == 1) {
            task.run(0, n);
            return;
        }
        forParts(n, parts, (part, from, to) -> task.run(from, to));
    }

    /** Runs {@code task} over {@code [0, n)} split into exactly {@code parts} contiguous ranges. */
    void forParts(int n, int parts, PartTask task) {
        if (parts == 1) {
            task.run(0, 0, n);
            return;
        }
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int from = start(n, parts, p), to = start(n, parts, p + 1);
            int part = p;
            forked[p - 1] = pool.submit(() -> task.run(part, from, to));
        }
        Throwable failure = null;
        try {
            task.run(0, 0, start(n, parts, 1));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (ForkJoinTask<?> f : forked) {
            try {
                f.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        } else if (failure instanceof Error err) {
            throw err;
        }
    }

    /** First item of part {@code p} when {@code n} items are split into {@code parts}. */
    static int start(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
    }
}
