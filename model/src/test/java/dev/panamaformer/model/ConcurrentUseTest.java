package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * One model used from two threads at once: every call either gives exactly what it gives alone
 * or throws an IllegalStateException that says so; never numbers mixed from both threads.
 */
class ConcurrentUseTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED);

    @Test
    void forwardFromTwoThreadsIsRightOrRefused() throws Exception {
        try (Transformer model = new Transformer(CONFIG, 3)) {
            Batch[] batches = {TestModels.randomBatch(new Random(1), CONFIG, 3, 6, 5), TestModels.randomBatch(new Random(2), CONFIG, 4, 5, 7)};
            double[] expected = {model.forward(batches[0], false, 0), model.forward(batches[1], false, 0)};
            AtomicInteger refused = new AtomicInteger();
            run(2, t -> {
                for (int i = 0; i < 300; i++) {
                    try {
                        assertEquals(expected[t], model.forward(batches[t], false, 0), "thread " + t + ", call " + i);
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("serves one thread at a time"), e.getMessage());
                        refused.incrementAndGet();
                    }
                }
            });
            // and afterwards, from this thread, as before
            assertEquals(expected[0], model.forward(batches[0], false, 0));
            System.out.println("forward from two threads: " + refused.get() + " of 600 calls refused, the rest exact");
        }
    }

    @Test
    void decodingFromTwoThreadsIsRightOrRefused() throws Exception {
        try (Transformer model = new Transformer(CONFIG, 4)) {
            int[][][] sources = {{{1, 2, 3, 4}, {5, 6}}, {{7, 8, 9}, {2, 2, 2, 2, 2}, {3}}};
            int[][][] expected = {Decoding.greedy(model, sources[0], 1, 2, 6), Decoding.greedy(model, sources[1], 1, 2, 6)};
            run(2, t -> {
                for (int i = 0; i < 200; i++) {
                    try {
                        int[][] got = Decoding.greedy(model, sources[t], 1, 2, 6);
                        for (int r = 0; r < got.length; r++) {
                            assertArrayEquals(expected[t][r], got[r], "thread " + t + ", call " + i + ", row " + r);
                        }
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("serves one thread at a time"), e.getMessage());
                    }
                }
            });
        }
    }

    interface Body {
        void run(int thread) throws Exception;
    }

    /** Runs {@code body} on {@code n} threads started together; rethrows the first failure. */
    private static void run(int n, Body body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CyclicBarrier start = new CyclicBarrier(n);
            List<Future<Void>> done = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                int thread = t;
                Callable<Void> c = () -> {
                    start.await();
                    body.run(thread);
                    return null;
                };
                done.add(pool.submit(c));
            }
            for (Future<Void> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
