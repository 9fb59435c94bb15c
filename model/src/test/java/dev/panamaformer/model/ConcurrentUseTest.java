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
                        assertTrue(e.getMessage().contains("serve one thread at a time"), e.getMessage());
                        refused.incrementAndGet();
                    }
                }
            });
            // and afterwards, from this thread, as before
            assertEquals(expected[0], model.forward(batches[0], false, 0));
            System.out.println("forward from two threads: " + refused.get() + " of 600 calls refused, the rest exact");
        }
    }

    /** Sessions on one model run side by side, as a server's requests would: each gives what it gives alone, bit for bit. */
    @Test
    void decodingSessionsOnSharedWeightsRunAtOnceAndMatchSequentialRuns() throws Exception {
        for (TransformerConfig.Positions positions : TransformerConfig.Positions.values()) {
            TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
            try (Transformer model = new Transformer(config, 4)) {
                int[][][] sources = {{{1, 2, 3, 4}, {5, 6}}, {{7, 8, 9}, {2, 2, 2, 2, 2}, {3}}, {{4, 4}}, {{9, 1, 9, 1, 9, 1}}};
                int[][][] expected = new int[4][][];
                int[][][] expectedBeams = new int[4][][];
                for (int t = 0; t < 4; t++) {
                    expected[t] = Decoding.greedy(model, sources[t], 1, 2, 8);
                    expectedBeams[t] = Decoding.beamSearch(model, sources[t], 3, 1, 2, 8, 1f);
                }
                run(4, t -> {
                    for (int i = 0; i < 60; i++) {
                        int[][] got = i % 3 == 2 ? Decoding.beamSearch(model, sources[t], 3, 1, 2, 8, 1f)
                                : Decoding.greedy(model, sources[t], 1, 2, 8);
                        int[][] want = i % 3 == 2 ? expectedBeams[t] : expected[t];
                        for (int r = 0; r < got.length; r++) {
                            assertArrayEquals(want[r], got[r], positions + ", thread " + t + ", call " + i + ", row " + r);
                        }
                    }
                });
            }
        }
    }

    /** Training on one thread while another decodes: every decoding call is refused or exact for the weights it saw, never torn. */
    @Test
    void decodingBesideForwardIsRightOrRefused() throws Exception {
        try (Transformer model = new Transformer(CONFIG, 5)) {
            Batch batch = TestModels.randomBatch(new Random(3), CONFIG, 3, 6, 5);
            int[][] sources = {{1, 2, 3}, {4, 5, 6, 7}};
            int[][] expected = Decoding.greedy(model, sources, 1, 2, 6);
            double loss = model.forward(batch, false, 0);
            AtomicInteger refused = new AtomicInteger();
            run(2, t -> {
                for (int i = 0; i < 200; i++) {
                    try {
                        if (t == 0) {
                            assertEquals(loss, model.forward(batch, false, 0), "call " + i);
                        } else {
                            int[][] got = Decoding.greedy(model, sources, 1, 2, 6);
                            for (int r = 0; r < got.length; r++) {
                                assertArrayEquals(expected[r], got[r], "call " + i + ", row " + r);
                            }
                        }
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("serve one thread at a time"), e.getMessage());
                        refused.incrementAndGet();
                    }
                }
            });
            System.out.println("forward beside decoding: " + refused.get() + " of 400 calls refused, the rest exact");
        }
    }

    /**
     * Two models trained at once on two threads, over the one JVM-wide kernels instance (its
     * worker pool busy with either): each ends with the weights of its run alone, bit for bit.
     */
    @Test
    void twoModelsTrainedAtOnceMatchTheirSequentialRuns() throws Exception {
        TransformerConfig config = CONFIG.withDropout(0.1f, 0.1f);
        Batch[][] batches = new Batch[2][5];
        Random r = new Random(8);
        for (Batch[] run : batches) {
            for (int i = 0; i < run.length; i++) {
                run[i] = TestModels.randomBatch(r, config, 8, 7, 6);
            }
        }
        float[][][] alone = new float[2][][];
        for (int t = 0; t < 2; t++) {
            alone[t] = train(config, t, batches[t]);
        }
        float[][][] together = new float[2][][];
        run(2, t -> together[t] = train(config, t, batches[t]));
        for (int t = 0; t < 2; t++) {
            for (int p = 0; p < alone[t].length; p++) {
                assertArrayEquals(alone[t][p], together[t][p], "model " + t + ", parameter " + p);
            }
        }
    }

    /** The parameters of a model of {@code config} after a step on each of {@code batches}. */
    private static float[][] train(TransformerConfig config, long seed, Batch[] batches) {
        try (Transformer model = new Transformer(config, seed);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(seed).withClipNorm(1f))) {
            for (Batch b : batches) {
                trainer.step(b);
            }
            List<Parameter> params = model.parameters().list();
            float[][] values = new float[params.size()][];
            for (int i = 0; i < values.length; i++) {
                values[i] = params.get(i).value().toArray();
            }
            return values;
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
