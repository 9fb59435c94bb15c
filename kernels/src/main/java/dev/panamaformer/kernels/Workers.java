package dev.panamaformer.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker threads that {@link Parallel} hands parts of a job to, shared by every
 * {@link Kernels} instance of the JVM (like the JDK's common pool) and grown to the largest
 * thread count asked for. A job allocates nothing: the caller posts it in fields, wakes the
 * workers it needs, runs part 0 itself and waits. Workers spin briefly between jobs, because a
 * training step hands them one every few microseconds, and park when idle.
 *
 * <p>One job runs at a time; a caller that finds the workers busy runs all parts itself, which
 * gives the same result, since every caller's partition is independent of who runs a part.
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
    private final AtomicInteger pending = new AtomicInteger();
    private Worker[] workers = new Worker[0];
    // the current job, written by the caller before it publishes parts to the workers
    private Parallel.PartTask task;
    private int items;
    private int parts;
    private volatile Thread caller;
    private volatile Throwable failure;

    private Workers() {
    }

    static Workers shared() {
        return SHARED;
    }

    /** Runs {@code task} over {@code [0, n)} in {@code parts} contiguous parts; part 0 on this thread. */
    void run(int n, int parts, Parallel.PartTask task) {
        if (!lock.tryLock()) {
            // one after another on this thread, each as part 0: a part's number only picks its
            // scratch memory, and parts run in turn can share part 0's instead of each creating
            // its own (a job would otherwise grow one workspace per part for every busy caller)
            for (int p = 0; p < parts; p++) {
                task.run(0, Parallel.start(n, parts, p), Parallel.start(n, parts, p + 1));
            }
            return;
        }
        try {
            grow(parts - 1);
            this.task = task;
            this.items = n;
            this.parts = parts;
            this.failure = null;
            this.caller = Thread.currentThread();
            pending.set(parts - 1);
            for (int p = 1; p < parts; p++) {
                workers[p - 1].assign(p);
            }
            try {
                task.run(0, 0, Parallel.start(n, parts, 1));
            } catch (RuntimeException | Error e) {
                failed(e);
            }
            for (int spins = 0; pending.get() > 0; ) {
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
            }
        } finally {
            lock.unlock();
        }
    }

    private void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        }
    }

    private void grow(int needed) {
        if (workers.length >= needed) {
            return;
        }
        Worker[] more = java.util.Arrays.copyOf(workers, needed);
        for (int i = workers.length; i < needed; i++) {
            more[i] = new Worker(i);
            more[i].start();
        }
        workers = more;
    }

    private final class Worker extends Thread {
        private volatile int part = -1;

        Worker(int index) {
            super("panamaformer-kernels-" + index);
            setDaemon(true);
        }

        void assign(int p) {
            part = p;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            while (true) {
                int p;
                for (int spins = 0; (p = part) < 0; ) {
                    if (++spins < SPINS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                try {
                    task.run(p, Parallel.start(items, parts, p), Parallel.start(items, parts, p + 1));
                } catch (RuntimeException | Error e) {
                    failed(e);
                }
                part = -1;
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }
}
