package dev.panamaformer.kernels;

/**
 * Splits a range of independent work items across a fixed number of threads.
 *
 * <p>Every caller partitions work so that each output element is computed by exactly one task in
 * an order that does not depend on the partition, so results are bit-identical for any thread
 * count. A job is cut into chunks that the calling thread and the {@link Workers} claim as they
 * come free; the part number a task gets is the thread's, for its scratch memory.
 */
final class Parallel {
    /** Below this many multiply-adds (or comparable work) per part, a fork (some microseconds) costs more than it saves. */
    static final long MIN_WORK_PER_PART = 1L << 18;
    /** Chunks per thread a job is cut into, at most. */
    static final int CHUNKS_PER_PART = 4;
    /** Below this much work a chunk is not cut smaller. */
    static final long MIN_WORK_PER_CHUNK = 1L << 16;

    /** A task over part of a range that learns which part it is, to pick per-thread scratch memory. */
    @FunctionalInterface
    interface PartTask {
        void run(int part, int from, int to);
    }

    /** A task over part of a range that does not care which part: handed to the workers as it is, no adapter per call. */
    @FunctionalInterface
    interface RangeTask extends PartTask {
        void run(int from, int to);

        @Override
        default void run(int part, int from, int to) {
            run(from, to);
        }
    }

    private static final Parallel SERIAL = new Parallel(1);

    private final int threads;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
    }

    /**
     * This instance when every tensor may be touched by worker threads, otherwise a serial one:
     * memory of a confined arena belongs to the calling thread alone. Fixed arities keep the
     * kernel calls free of varargs arrays; more tensors chain, {@code over(a, b, c, d).over(e, f)},
     * since the serial instance stays serial.
     */
    Parallel over(FloatTensor a) {
        return shared(a) ? this : SERIAL;
    }

    Parallel over(FloatTensor a, FloatTensor b) {
        return shared(a) && shared(b) ? this : SERIAL;
    }

    Parallel over(FloatTensor a, FloatTensor b, FloatTensor c) {
        return shared(a) && shared(b) && shared(c) ? this : SERIAL;
    }

    Parallel over(FloatTensor a, FloatTensor b, FloatTensor c, FloatTensor d) {
        return shared(a) && shared(b) && shared(c) && shared(d) ? this : SERIAL;
    }

    private boolean shared(FloatTensor t) {
        return threads == 1 || t == null || t.isShared();
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

    /**
     * How many chunks {@code n} items of {@code workPerItem} each, to be run by {@code parts}
     * threads, are cut into: up to {@link #CHUNKS_PER_PART} per thread while each chunk keeps at
     * least {@link #MIN_WORK_PER_CHUNK}, so that a thread that starts late leaves its share to
     * the others.
     */
    static int chunks(int n, long workPerItem, int parts) {
        if (parts <= 1) {
            return 1;
        }
        long work = n * Math.max(1, workPerItem);
        return (int) Math.max(parts, Math.min(Math.min(n, (long) parts * CHUNKS_PER_PART), work / MIN_WORK_PER_CHUNK));
    }

    /** Runs {@code task} over {@code [0, n)} in {@code parts(n, workPerItem)} threads. */
    void forRange(int n, long workPerItem, RangeTask task) {
        int parts = parts(n, workPerItem);
        if (parts == 1) {
            task.run(0, n);
            return;
        }
        forParts(n, parts, chunks(n, workPerItem, parts), task);
    }

    /**
     * Runs {@code task} over {@code [0, n)} cut into {@code chunks} contiguous ranges, on at most
     * {@code parts} threads; the part number handed to the task is the thread's (from 0 to
     * {@code parts - 1}), for its scratch memory.
     */
    void forParts(int n, int parts, int chunks, PartTask task) {
        if (parts == 1) {
            task.run(0, 0, n);
            return;
        }
        Workers.shared().run(n, parts, chunks, task);
    }

    /** First item of part {@code p} when {@code n} items are split into {@code parts}. */
    static int start(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
    }
}
