package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.DecodingSession;
import dev.panamaformer.model.RunOptions;
import dev.panamaformer.model.Transformer;
import dev.panamaformer.model.TransformerConfig;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;

/**
 * One loaded model serving two requests at once, as a server would: each thread decodes its own
 * requests through its own {@link DecodingSession}s on a model whose kernels run on the calling
 * thread ({@code Kernels.withThreads(1)}). Prints the wall time of a thread's requests alone and
 * of two threads' at once (the same requests each), their ratio (1.0 would be perfect scaling on
 * two free cores), and checks every output against the one computed alone, bit for bit.
 *
 * <pre>bench/run [--isa avx2] --main ConcurrentDecoding [requests per round] [rounds]</pre>
 */
public final class ConcurrentDecoding {
    /** The addition task's model: d 256, 3 layers, 4 heads, d_ff 1024. */
    private static final TransformerConfig CONFIG = new TransformerConfig(14, 14, 256, 3, 4, 1024, 32, 0f, 0f, 1e-5f,
            TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED, 0);
    private static final int BATCH = 16, SOURCE = 12, STEPS = 14;

    private ConcurrentDecoding() {
    }

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (Transformer model = new Transformer(CONFIG, 1, RunOptions.defaults().withKernels(Kernels.withThreads(1)))) {
            int[][][] sources = new int[2][][];
            for (int t = 0; t < 2; t++) {
                SplittableRandom r = new SplittableRandom(t + 1);
                sources[t] = new int[BATCH][SOURCE];
                for (int[] row : sources[t]) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = 3 + r.nextInt(CONFIG.srcVocabSize() - 3);
                    }
                }
            }
            int[][][] expected = {decode(model, sources[0]), decode(model, sources[1])};
            for (int i = 0; i < 3 * requests; i++) { // warm-up, both threads' requests
                decode(model, sources[i % 2]);
            }
            System.out.println(Machine.describe());
            System.out.printf("%d requests per thread and round (each %d sources x %d steps, d=%d, %d layers), kernels: %s%n",
                    requests, BATCH, STEPS, CONFIG.hiddenSize(), CONFIG.numLayers(), model.options().kernels().description());
            System.out.println("| round | one thread alone, s | two threads at once, s | ratio |");
            System.out.println("|---|---|---|---|");
            double[] ratios = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                double alone = time(model, sources, expected, requests, 1);
                double pair = time(model, sources, expected, requests, 2);
                ratios[round] = pair / alone;
                System.out.printf("| %d | %.3f | %.3f | %.2fx |%n", round + 1, alone, pair, ratios[round]);
            }
            Arrays.sort(ratios);
            System.out.printf("median ratio %.2fx, best %.2fx (two requests at once against one alone; outputs bit-identical)%n",
                    ratios[rounds / 2], ratios[0]);
        }
    }

    /** Seconds of wall time for {@code threads} threads each decoding {@code requests} requests, checked. */
    private static double time(Transformer model, int[][][] sources, int[][][] expected, int requests, int threads)
            throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        Thread[] workers = new Thread[threads];
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < requests; i++) {
                        if (!Arrays.deepEquals(expected[thread], decode(model, sources[thread]))) {
                            throw new AssertionError("thread " + thread + ", request " + i + " differs from its run alone");
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
            workers[t].start();
        }
        start.await();
        long t0 = System.nanoTime();
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        return seconds;
    }

    /** Greedy decoding of {@code sources} for {@link #STEPS} steps (no end token), through a session of its own. */
    private static int[][] decode(Transformer model, int[][] sources) {
        int vocab = CONFIG.tgtVocabSize();
        int[][] out = new int[sources.length][STEPS];
        try (DecodingSession session = model.startDecoding(sources, 1, STEPS)) {
            int[] tokens = new int[sources.length];
            Arrays.fill(tokens, 1);
            for (int pos = 0; pos < STEPS; pos++) {
                FloatTensor logProbs = session.step(tokens);
                for (int r = 0; r < tokens.length; r++) {
                    int best = 0;
                    for (int v = 1; v < vocab; v++) {
                        if (logProbs.get((long) r * vocab + v) > logProbs.get((long) r * vocab + best)) {
                            best = v;
                        }
                    }
                    tokens[r] = best;
                    out[r][pos] = best;
                }
            }
        }
        return out;
    }
}
