package dev.panamaformer.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker threads that {@link Parallel} hands parts of a job to, shared by every
 * {@link Kernels} instance of the JVM (like the JDK's common pool) and grown to the largest
 * thread count asked for. A job allocates nothing: the caller posts it in fields, wakes the
 * workers it needs and claims chunks of it like they do, then waits for the chunks it did not
 * run. Workers spin briefly between jobs, because a training step hands them one every few
 * microseconds, and park when idle.
 *
 * <p>Chunks are claimed from a counter, not assigned: a worker that wakes late (parked, or its
 * virtual CPU taken by the host) leaves its chunks to the others instead of holding the caller,
 * and one that wakes after the last chunk was claimed does nothing. A chunk's bounds depend only
 * on the job, and the number a chunk is run with only picks scratch memory (each thread has its
 * own), so results do not depend on who runs which chunk.
 *
 * <p>One job runs at a time; a caller that finds the workers busy runs all chunks itself, which
 * gives the same result.
 */
final class Workers {
    private static final Workers SHARED = new Workers();
    /**
     * Spin-wait hints before a thread parks: 4,096 took 94-150 µs on an AMD EPYC Zen 4 (JDK 25).
     * 65,536 changed nothing measurable in the copy task's training step under AVX2 (three JVMs
     * each, alternating: 20.2-23.3 ms per step against 20.3-24.7).
     */
    private static final int SPINS = 1 << 12;

    private final ReentrantLock lock = new ReentrantLock();
    /** The job's number in the high 32 bits and its next unclaimed chunk in the low 32. */
    private final AtomicLong claims = new AtomicLong();
    /** Chunks of the current job that have finished. */
    private final AtomicInteger finished = new AtomicInteger();
    private Worker[] workers = new Worker[0];
    private int job;
    // the current job, written by the caller before it publishes the job's number in claims
    private Parallel.PartTask task;
    private int items;
    /**
     * Volatile although it is written before the job is opened: a late worker reads it beside an
     * old claim word, and a count it sees must come with the closed word before it (a plain write
     * may become visible before an earlier volatile one on weakly ordered CPUs, e.g. ARM).
     */
    private volatile int chunks;
    private volatile Thread caller;
    private volatile Throwable failure;

    private Workers() {
    }

    static Workers shared() {
        return SHARED;
    }

    /**
     * Runs {@code task} over {@code [0, n)} cut into {@code chunks} contiguous chunks, on this
     * thread (as part 0) and at most {@code parts - 1} workers (as parts 1, 2, ...).
     */
    void run(int n, int parts, int chunks, Parallel.PartTask task) {
        if (lock.isHeldByCurrentThread() || !lock.tryLock()) {
            // a job from inside a job's chunk, or while another thread's job runs: on this thread, each chunk as part 0: a part's number only picks its scratch
            // memory, and chunks run in turn can share part 0's instead of each creating its own
            // (a job would otherwise grow one workspace per part for every busy caller)
            for (int c = 0; c < chunks; c++) {
                task.run(0, Parallel.start(n, chunks, c), Parallel.start(n, chunks, c + 1));
            }
            return;
        }
        try {
            grow(parts - 1);
            int id = ++job;
            // closed first: a worker still looking at the last job could otherwise read this
            // job's chunk count, find that job's spent counter below it and claim a chunk of it
            // (the CAS succeeding while the counter is unchanged), then run this job's task
            claims.set(((long) id << 32) | Integer.MAX_VALUE);
            this.task = task;
            this.items = n;
            this.chunks = chunks;
            this.failure = null;
            this.caller = Thread.currentThread();
            finished.set(0);
            claims.set((long) id << 32);
            for (int p = 1; p < parts; p++) {
                workers[p - 1].assign(id);
            }
            work(id, 0);
            for (int spins = 0; finished.get() < chunks; ) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            this.task = null;
            Throwable t = failure;
            if (t instanceof RuntimeException re) {
                throw re;
            } else if (t instanceof Error err) {
                throw err;
            } else if (t != null) {
                throw new IllegalStateException("a part of a parallel job failed", t);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Claims and runs chunks of job {@code id} as {@code part} until none is left. */
    private void work(int id, int part) {
        while (true) {
            long claim = claims.get();
            if ((int) (claim >>> 32) != id) {
                return; // that job is over (a late worker)
            }
            int chunk = (int) claim, count = chunks;
            // count may already be a later job's; then claims has changed too and the CAS fails
            if (chunk >= count || !claims.compareAndSet(claim, claim + 1)) {
                if (chunk >= count) {
                    return;
                }
                continue;
            }
            // the claim holds job id open until this chunk is counted, so its fields stay put
            Thread waiting = caller;
            try {
                task.run(part, Parallel.start(items, count, chunk), Parallel.start(items, count, chunk + 1));
            } catch (Throwable e) { // whatever a chunk throws, the job's count must go on, or its caller waits forever
                failed(e);
            }
            if (finished.incrementAndGet() == count && part != 0) {
                LockSupport.unpark(waiting);
            }
        }
    }

    /** The job's first failure is rethrown to its caller, later ones added to it as suppressed. */
    private synchronized void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        } else if (failure != t) {
            failure.addSuppressed(t);
        }
    }

    private void grow(int needed) {
        if (workers.length >= needed) {
            return;
        }
        Worker[] more = java.util.Arrays.copyOf(workers, needed);
        for (int i = workers.length; i < needed; i++) {
            more[i] = new Worker(i + 1);
            more[i].start();
        }
        workers = more;
    }

    private final class Worker extends Thread {
        private final int part;
        /** The last job this worker was asked to help with; it has helped with every earlier one it was asked for. */
        private volatile int assigned;

        Worker(int part) {
            super("panamaformer-kernels-" + (part - 1));
            this.part = part;
            setDaemon(true);
        }

        void assign(int id) {
            assigned = id;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            int done = 0;
            while (true) {
                int id;
                for (int spins = 0; (id = assigned) == done; ) {
                    if (++spins < SPINS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                done = id;
                work(id, part);
            }
        }
    }
}
