package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared worker threads: whoever claims a chunk, every item of a job runs exactly once, as a
 * part the job allowed, and the caller returns only after all of them; failures reach the caller;
 * jobs posted from many threads at once, or from inside a chunk, neither mix nor wait forever
 * (a lost wake-up fails the timeout instead of hanging the build).
 */
@Timeout(120)
class WorkersTest {
    @Test
    void everyItemRunsExactlyOnceInAPartTheJobAllows() {
        Random random = new Random(11);
        for (int job = 0; job < 20_000; job++) {
            int n = 1 + random.nextInt(200), parts = 2 + random.nextInt(3);
            int chunks = parts + random.nextInt(Math.max(1, n - parts + 1));
            checkJob(n, parts, Math.min(n, chunks));
        }
    }

    @Test
    void jobsFromManyThreadsAtOnceDoNotMix() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int seed = c;
                futures.add(callers.submit(() -> {
                    Random random = new Random(seed);
                    for (int job = 0; job < 500; job++) {
                        int n = 1 + random.nextInt(100), parts = 2 + random.nextInt(2);
                        checkJob(n, parts, Math.min(n, parts * (1 + random.nextInt(4))));
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aJobPostedFromInsideAChunkRunsThere() {
        AtomicIntegerArray inner = new AtomicIntegerArray(8 * 16);
        java.util.concurrent.atomic.AtomicInteger elsewhere = new java.util.concurrent.atomic.AtomicInteger();
        Workers.shared().run(8, 2, 8, (part, from, to) -> {
            Thread outerThread = Thread.currentThread();
            for (int i = from; i < to; i++) {
                int outer = i;
                Workers.shared().run(16, 2, 4, (p, f, t) -> {
                    if (Thread.currentThread() != outerThread || p != 0) {
                        elsewhere.incrementAndGet();
                    }
                    for (int j = f; j < t; j++) {
                        inner.incrementAndGet(outer * 16 + j);
                    }
                });
            }
        });
        for (int i = 0; i < inner.length(); i++) {
            assertEquals(1, inner.get(i), "item " + i);
        }
        assertEquals(0, elsewhere.get(), "an inner job's chunks run on the chunk's own thread, as part 0");
    }

    @Test
    void aFailingChunkReachesTheCallerAndTheNextJobRuns() {
        IllegalStateException thrown = new IllegalStateException("chunk 5 failed");
        IllegalStateException caught = assertThrows(IllegalStateException.class, () ->
                Workers.shared().run(8, 2, 8, (part, from, to) -> {
                    if (from <= 5 && 5 < to) {
                        throw thrown;
                    }
                }));
        assertSame(thrown, caught);
        checkJob(64, 2, 8);
    }

    private static void checkJob(int n, int parts, int chunks) {
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        AtomicIntegerArray partOf = new AtomicIntegerArray(n);
        Workers.shared().run(n, parts, chunks, (part, from, to) -> {
            for (int i = from; i < to; i++) {
                runs.incrementAndGet(i);
                partOf.set(i, part);
            }
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, runs.get(i), "item " + i + " of " + n + " in " + chunks + " chunks on " + parts + " parts");
            assertTrue(partOf.get(i) >= 0 && partOf.get(i) < parts, "part " + partOf.get(i) + " of " + parts);
        }
    }
}
