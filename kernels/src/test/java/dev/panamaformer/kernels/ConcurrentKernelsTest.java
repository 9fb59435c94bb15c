package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One {@link Kernels} instance called from several threads at once: every thread's results equal,
 * bit for bit, what the same calls give one after another. The calls are those that keep scratch
 * memory or post a job to the worker threads (blocked and batched products split across parts,
 * fused attention forward and backward, multi-chunk reductions), at sizes that take those paths.
 */
class ConcurrentKernelsTest {
    private static final int CALLERS = 4;
    private static final int ROUNDS = 12;

    @ParameterizedTest(name = "{0} threads per instance")
    @ValueSource(ints = {1, 2, 3})
    void concurrentCallsGiveTheSequentialResults(int threads) throws Exception {
        Kernels kernels = Kernels.withThreads(threads); // the provider's choice, as in every run of the suite
        float[][] sequential = new float[CALLERS][];
        for (int caller = 0; caller < CALLERS; caller++) {
            sequential[caller] = work(kernels, caller);
        }
        CyclicBarrier start = new CyclicBarrier(CALLERS);
        ExecutorService pool = Executors.newFixedThreadPool(CALLERS);
        try {
            List<Future<List<float[]>>> futures = new ArrayList<>();
            for (int caller = 0; caller < CALLERS; caller++) {
                int id = caller;
                futures.add(pool.submit(() -> {
                    start.await();
                    List<float[]> runs = new ArrayList<>();
                    for (int round = 0; round < ROUNDS; round++) {
                        runs.add(work(kernels, id));
                    }
                    return runs;
                }));
            }
            for (int caller = 0; caller < CALLERS; caller++) {
                List<float[]> runs = futures.get(caller).get(5, TimeUnit.MINUTES);
                assertEquals(ROUNDS, runs.size());
                for (int round = 0; round < ROUNDS; round++) {
                    assertArrayEquals(sequential[caller], runs.get(round),
                            "caller " + caller + ", round " + round + ", on " + kernels.description());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The calls of one caller on its own inputs (seeded by {@code caller}); every output, concatenated. */
    private static float[] work(Kernels kn, int caller) {
        Random random = new Random(1000 + caller);
        List<float[]> outputs = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            // blocked products in the three forms, 96 x 80 x 72: above Matmul.SMALL, two parts on two threads
            int m = 96, n = 80, k = 72;
            FloatTensor a = TestData.tensor(arena, TestData.uniform(random, m * k, 1f));
            FloatTensor b = TestData.tensor(arena, TestData.uniform(random, k * n, 1f));
            FloatTensor c = FloatTensor.allocate(arena, m * n);
            kn.matmul().gemm(false, false, m, n, k, 1f, a, b, 0f, c);
            outputs.add(c.toArray());
            kn.matmul().gemm(false, true, m, k, n, 0.5f, c, b, 0f, a); // (m, n) x (k, n)ᵀ into A's (m, k)
            outputs.add(a.toArray());
            kn.matmul().gemm(true, false, k, n, m, 1f, a, c, 0f, b);   // (m, k)ᵀ x (m, n) into B's (k, n)
            outputs.add(b.toArray());
            // batched products over a (2, 3) grid: small (24 x 40 x 32) and blocked (48 x 48 x 40)
            batched(kn, arena, random, 24, 40, 32, outputs);
            batched(kn, arena, random, 48, 48, 40, outputs);
            // fused attention, causal, with dropout, forward and backward
            AttentionShape shape = new AttentionShape(2, 2, 40, 40, 16);
            int rows = 2 * 40, width = 2 * 16;
            FloatTensor q = TestData.tensor(arena, TestData.uniform(random, rows * width, 1f));
            FloatTensor kk = TestData.tensor(arena, TestData.uniform(random, rows * width, 1f));
            FloatTensor v = TestData.tensor(arena, TestData.uniform(random, rows * width, 1f));
            FloatTensor dO = TestData.tensor(arena, TestData.uniform(random, rows * width, 1f));
            FloatTensor o = FloatTensor.allocate(arena, rows * width);
            FloatTensor dq = FloatTensor.allocate(arena, rows * width);
            FloatTensor dk = FloatTensor.allocate(arena, rows * width);
            FloatTensor dv = FloatTensor.allocate(arena, rows * width);
            FloatTensor lse = FloatTensor.allocate(arena, (int) shape.rows());
            RowMask causal = RowMask.causal(40);
            long seed = 77 + caller;
            kn.fusedAttention().forward(shape, 0.25f, heads(q), heads(kk), heads(v), causal, 0.1f, seed, heads(o), lse);
            kn.fusedAttention().backward(shape, 0.25f, heads(q), heads(kk), heads(v), causal, 0.1f, seed, heads(o), lse,
                    heads(dO), heads(dq), heads(dk), heads(dv));
            outputs.add(o.toArray());
            outputs.add(lse.toArray());
            outputs.add(dq.toArray());
            outputs.add(dk.toArray());
            outputs.add(dv.toArray());
            // reductions of several chunks
            int size = 3 * Chunks.SIZE + 5;
            FloatTensor x = TestData.tensor(arena, TestData.uniform(random, size, 2f));
            FloatTensor y = TestData.tensor(arena, TestData.uniform(random, size, 2f));
            outputs.add(new float[] {(float) kn.elementwise().sumOfSquares(x, size), (float) kn.elementwise().dot(x, y, size),
                    (float) kn.elementwise().sum(x, size)});
        }
        int total = 0;
        for (float[] o : outputs) {
            total += o.length;
        }
        float[] all = new float[total];
        int at = 0;
        for (float[] o : outputs) {
            System.arraycopy(o, 0, all, at, o.length);
            at += o.length;
        }
        return all;
    }

    private static void batched(Kernels kn, Arena arena, Random random, int m, int n, int k, List<float[]> outputs) {
        int grid = 6;
        FloatTensor a = TestData.tensor(arena, TestData.uniform(random, grid * m * k, 1f));
        FloatTensor b = TestData.tensor(arena, TestData.uniform(random, grid * k * n, 1f));
        FloatTensor c = FloatTensor.allocate(arena, grid * m * n);
        kn.matmul().gemmBatched(2, 3, false, false, m, n, k, 1f, new MatrixBatch(a, 0, k, 3L * m * k, (long) m * k),
                new MatrixBatch(b, 0, n, 3L * k * n, (long) k * n), 0f, new MatrixBatch(c, 0, n, 3L * m * n, (long) m * n));
        outputs.add(c.toArray());
    }

    /** The (2 sequences, 2 heads) grid of (40, 16) matrices in a (2 * 40, 2 * 16) tensor. */
    private static MatrixBatch heads(FloatTensor t) {
        return new MatrixBatch(t, 0, 32, 40L * 32, 16);
    }
}
