package dev.panamaformer.kernels;

/**
 * Element ranges of fixed size, the unit that element-wise kernels split across threads and that
 * reductions sum separately before adding the parts in order. The size does not depend on the
 * thread count, so neither do the results.
 */
final class Chunks {
    static final int SIZE = 1 << 14;

    @FunctionalInterface
    interface LongRangeTask {
        void run(long from, long to);
    }

    private Chunks() {
    }

    static int count(long n) {
        long c = (n + SIZE - 1) / SIZE;
        if (c > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " elements are too many");
        }
        return (int) c;
    }

    /** Whether {@code n} elements are done on the calling thread alone (callers then skip building a task). */
    static boolean serial(Parallel parallel, long n) {
        return n <= SIZE || parallel.parts(count(n), SIZE) == 1;
    }

    /** Runs {@code task} over {@code [0, n)} split into whole chunks across threads. */
    static void forEach(Parallel parallel, long n, LongRangeTask task) {
        if (n <= SIZE) {
            task.run(0, n);
            return;
        }
        parallel.forRange(count(n), SIZE, (c0, c1) -> task.run((long) c0 * SIZE, Math.min(n, (long) c1 * SIZE)));
    }
}
