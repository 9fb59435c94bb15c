package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.FloatTensor;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class DecodingTest {
    private static final int BOS = 1;
    private static final int EOS = 2;

    /** A random model whose generator is scaled up, so that its choices are far from ties. */
    static Transformer decisive(TransformerConfig config, long seed) {
        Transformer model = new Transformer(config, seed);
        Parameter g = model.parameters().get("generator.weight");
        model.kernels().elementwise().scale(g.value(), 8f, g.value(), g.size());
        return model;
    }

    static int[][] sources(Random r, int b, int maxLen, int vocab) {
        int[][] src = new int[b][];
        for (int i = 0; i < b; i++) {
            src[i] = new int[1 + r.nextInt(maxLen)];
            for (int j = 0; j < src[i].length; j++) {
                src[i][j] = 1 + r.nextInt(vocab - 1);
            }
        }
        return src;
    }

    @Property(tries = 25)
    void cachedGreedyYieldsTheTokensOfFullRecomputation(@ForAll boolean gelu, @ForAll TransformerConfig.Positions positions,
                                                         @ForAll @IntRange(min = 1, max = 4) int b, @ForAll @IntRange(min = 1, max = 10) int maxLength,
                                                         @ForAll boolean withEos, @ForAll long seed) {
        TransformerConfig config = TestModels.tiny(gelu ? TransformerConfig.Activation.GELU : TransformerConfig.Activation.RELU,
                positions);
        int[][] src = sources(new Random(seed), b, 6, config.srcVocabSize());
        int eos = withEos ? EOS : -1;
        try (Transformer model = decisive(config, seed)) {
            int[][] cached = Decoding.greedy(model, src, BOS, eos, maxLength);
            int[][] recomputed = Decoding.greedyRecompute(model, src, BOS, eos, maxLength);
            for (int i = 0; i < b; i++) {
                assertArrayEquals(recomputed[i], cached[i], "source " + i);
                assertTrue(cached[i].length <= maxLength);
                if (!withEos) {
                    assertEquals(maxLength, cached[i].length, "without an end token every row runs to maxLength");
                }
            }
        }
    }

    /** The cache's log-probabilities at every step against the full forward pass over the same prefix. */
    @Property(tries = 6)
    void cachedStepsComputeTheSameLogProbabilities(@ForAll TransformerConfig.Positions positions) {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
        Random r = new Random(3);
        int[][] src = sources(r, 3, 6, config.srcVocabSize());
        int s = 6, t = 7, v = config.tgtVocabSize();
        int[] padded = new int[3 * s], prefix = new int[3 * t];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(src[i], 0, padded, i * s, src[i].length);
            for (int j = 0; j < t; j++) {
                prefix[i * t + j] = j == 0 ? BOS : 1 + r.nextInt(v - 1);
            }
        }
        try (Transformer model = new Transformer(config, 8)) {
            model.forward(new Batch(3, s, t, padded, prefix, new int[3 * t]), false, 0);
            float[] full = model.logProbs().toArray();
            try (DecodingSession session = model.startDecoding(src, 1, t)) {
                for (int pos = 0; pos < t; pos++) {
                    int[] tokens = {prefix[pos], prefix[t + pos], prefix[2 * t + pos]};
                    FloatTensor step = session.step(tokens);
                    for (int row = 0; row < 3; row++) {
                        for (int j = 0; j < v; j++) {
                            float expected = full[(row * t + pos) * v + j];
                            assertEquals(expected, step.get((long) row * v + j), 1e-5f * Math.max(1f, Math.abs(expected)),
                                    "row " + row + ", position " + pos + ", token " + j);
                        }
                    }
                }
            }
        }
    }

    /**
     * Without positions the encoder sees a bag of tokens: a source and its reverse give the
     * decoder the same log-probabilities (to rounding: the sums run in another order). Every
     * other position type tells them apart.
     */
    @Example
    void withoutPositionsTheSourceIsABagOfTokens() {
        int[] source = {3, 5, 7, 9, 4}, reversed = {4, 9, 7, 5, 3};
        for (TransformerConfig.Positions positions : TransformerConfig.Positions.values()) {
            TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
            try (Transformer model = new Transformer(config, 4);
                 DecodingSession a = model.startDecoding(new int[][] {source}, 1, 3);
                 DecodingSession b = model.startDecoding(new int[][] {reversed}, 1, 3)) {
                double largest = 0;
                for (int pos = 0; pos < 3; pos++) {
                    float[] pa = a.step(new int[] {BOS}).toArray(), pb = b.step(new int[] {BOS}).toArray();
                    for (int j = 0; j < config.tgtVocabSize(); j++) {
                        largest = Math.max(largest, Math.abs(pa[j] - pb[j]));
                    }
                }
                if (positions == TransformerConfig.Positions.NONE) {
                    assertTrue(largest <= 1e-5, "none: the reversed source changed a log-probability by " + largest);
                } else {
                    assertTrue(largest > 1e-4, positions + ": the reversed source changed nothing");
                }
            }
        }
    }

    private static double logProb(Transformer model, int[] src, int[] tokens) {
        int t = tokens.length;
        int[] in = new int[t], out = tokens.clone();
        in[0] = BOS;
        System.arraycopy(tokens, 0, in, 1, t - 1);
        model.forward(new Batch(1, src.length, t, src, in, out), false, 0);
        double sum = 0;
        int v = model.config().tgtVocabSize();
        for (int j = 0; j < t; j++) {
            sum += model.logProbs().get((long) j * v + tokens[j]); // pad too: the loss would skip it
        }
        return sum;
    }

    /** With no end token and a beam as wide as the tree, beam search finds the most likely sequence. */
    @Property(tries = 8)
    void aWideBeamFindsTheBestSequence(@ForAll long seed) {
        TransformerConfig config = new TransformerConfig(6, 4, 8, 1, 2, 8, 6, 0f, 0f, 1e-5f,
                TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED, 0);
        int[] src = sources(new Random(seed), 1, 4, 6)[0];
        try (Transformer model = new Transformer(config, seed)) {
            double best = Double.NEGATIVE_INFINITY;
            for (int code = 0; code < 64; code++) {
                best = Math.max(best, logProb(model, src, new int[] {code % 4, code / 4 % 4, code / 16}));
            }
            int[] beam = Decoding.beamSearch(model, new int[][] {src}, 16, BOS, -1, 3, 0f)[0];
            assertEquals(best, logProb(model, src, beam), 1e-5);
            int[] greedy = Decoding.greedy(model, new int[][] {src}, BOS, -1, 3)[0];
            assertArrayEquals(greedy, Decoding.beamSearch(model, new int[][] {src}, 1, BOS, -1, 3, 0f)[0], "width 1 is greedy");
            assertTrue(logProb(model, src, greedy) <= best + 1e-6);
        }
    }

    @Example
    void samplingIsSeededAndItsFiltersWork() {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);
        int[][] src = sources(new Random(5), 4, 6, config.srcVocabSize());
        try (Transformer model = new Transformer(config, 2)) {
            int[][] greedy = Decoding.greedy(model, src, BOS, -1, 8);
            Decoding.Sampling hot = new Decoding.Sampling(1.5f, 0, 1f, 42);
            int[][] a = Decoding.sample(model, src, hot, BOS, -1, 8);
            assertArrayEquals(a, Decoding.sample(model, src, hot, BOS, -1, 8), "the same seed draws the same tokens");
            assertTrue(!java.util.Arrays.deepEquals(a, Decoding.sample(model, src, new Decoding.Sampling(1.5f, 0, 1f, 43), BOS, -1, 8)));
            assertArrayEquals(greedy, Decoding.sample(model, src, new Decoding.Sampling(1f, 1, 1f, 7), BOS, -1, 8), "top-1 is greedy");
            assertArrayEquals(greedy, Decoding.sample(model, src, new Decoding.Sampling(1f, 0, 1e-6f, 7), BOS, -1, 8), "a tiny top-p is greedy");
            int[][] topTwo = Decoding.sample(model, src, new Decoding.Sampling(5f, 2, 1f, 9), BOS, -1, 8);
            for (int[] row : topTwo) {
                assertEquals(8, row.length);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Decoding.Sampling(-1f, 0, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Decoding.Sampling(1f, 0, 0f, 0));
    }

    @Example
    void badRequestsAreRefused() {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);
        try (Transformer model = new Transformer(config, 2)) {
            int[][] src = {{1, 2, 3}};
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, src, BOS, EOS, 11));
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, src, 9, EOS, 5));
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, new int[][] {{1, 99}}, BOS, EOS, 5));
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, new int[0][], BOS, EOS, 5));
            assertThrows(IllegalArgumentException.class, () -> Decoding.beamSearch(model, src, 0, BOS, EOS, 5, 1f));
        }
    }

    /** The listener sees every token of every row as it is chosen, in order, and nothing after the end token. */
    @Property(tries = 10)
    void theListenerStreamsExactlyTheResult(@ForAll @IntRange(min = 1, max = 4) int b, @ForAll long seed) {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED);
        int[][] src = sources(new Random(seed), b, 6, config.srcVocabSize());
        try (Transformer model = decisive(config, seed)) {
            java.util.List<java.util.List<Integer>> streamed = new java.util.ArrayList<>();
            for (int i = 0; i < b; i++) {
                streamed.add(new java.util.ArrayList<>());
            }
            int[][] result = Decoding.greedy(model, src, BOS, EOS, 9, (source, position, token) -> {
                assertEquals(streamed.get(source).size(), position, "positions arrive in order");
                streamed.get(source).add(token);
            });
            for (int i = 0; i < b; i++) {
                assertArrayEquals(result[i], streamed.get(i).stream().mapToInt(Integer::intValue).toArray(), "source " + i);
            }
            assertArrayEquals(Decoding.greedy(model, src, BOS, EOS, 9), result);
        }
    }

    /** A session of one's own: steps, log-probabilities, reordering, and what it refuses. */
    @Example
    void aSessionRefusesMisuseAndChangesNothing() {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.SINUSOIDAL);
        try (Transformer model = decisive(config, 6)) {
            int[][] src = {{3, 4, 5}, {6, 7}};
            int v = config.tgtVocabSize();
            try (DecodingSession session = model.startDecoding(src, 2, 3)) {
                assertEquals(4, session.rows());
                assertEquals(2, session.sources());
                assertEquals(v, session.vocabularySize());
                assertThrows(IllegalStateException.class, () -> session.logProb(0, 0));
                var e = assertThrows(IllegalArgumentException.class, () -> session.step(BOS, BOS));
                assertTrue(e.getMessage().contains("one token per row: 4"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> session.step(BOS, BOS, BOS, v));
                assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
                assertEquals(0, session.position(), "a refused step feeds nothing");
                FloatTensor first = session.step(BOS, BOS, BOS, BOS);
                assertEquals(1, session.position());
                // both beams of a source start alike
                for (int j = 0; j < v; j++) {
                    assertEquals(first.get(j), first.get(v + j));
                    assertEquals(first.get(j), session.logProb(0, j));
                }
                e = assertThrows(IllegalArgumentException.class, () -> session.reorder(0, 0, 0, 0));
                assertTrue(e.getMessage().contains("same source"), e.getMessage());
                session.reorder(1, 1, 3, 2);
                session.step(4, 5, 6, 7);
                session.step(4, 5, 6, 7);
                e = assertThrows(IllegalArgumentException.class, () -> session.step(4, 5, 6, 7));
                assertTrue(e.getMessage().contains("full"), e.getMessage());
            }
            DecodingSession closed = model.startDecoding(src, 1, 2);
            closed.close();
            assertThrows(IllegalStateException.class, () -> closed.step(BOS, BOS));
            assertThrows(IllegalArgumentException.class, () -> model.startDecoding(src, 0, 2));
            assertThrows(IllegalArgumentException.class, () -> model.startDecoding(src, 1, config.maxPositions() + 1));
            assertThrows(IllegalArgumentException.class, () -> model.startDecoding(new int[][] {{1, 999}}, 1, 2));
        }
    }

    /** A session's cache holds keys and values of the weights it started with: after a training step or a load it refuses to go on. */
    @Example
    void aSessionRefusesToContinueOnChangedWeights() throws Exception {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("decoding", ".safetensors");
        try (Transformer model = new Transformer(config, 12); Trainer trainer = new Trainer(model, Trainer.Options.reference(1))) {
            Checkpoint.save(model, file);
            int[][] src = {{3, 4, 5}};
            try (DecodingSession session = model.startDecoding(src, 1, 4)) {
                session.step(BOS);
                trainer.step(TestModels.randomBatch(new Random(1), config, 2, 4, 3));
                var e = assertThrows(IllegalStateException.class, () -> session.step(4));
                assertTrue(e.getMessage().contains("weights changed"), e.getMessage());
            }
            try (DecodingSession session = model.startDecoding(src, 1, 4)) {
                session.step(BOS);
                Checkpoint.loadInto(model, file);
                var e = assertThrows(IllegalStateException.class, () -> session.step(4));
                assertTrue(e.getMessage().contains("weights changed"), e.getMessage());
            }
            try (DecodingSession session = model.startDecoding(src, 1, 4)) {
                session.step(BOS);
                session.step(4); // a new session on the new weights goes on
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /** A session dropped without close() frees its cache once the collector finds it: its tensors die. */
    @Example
    void aForgottenSessionIsFreedWhenCollected() throws InterruptedException {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);
        try (Transformer model = new Transformer(config, 2)) {
            FloatTensor logProbs = forgottenSession(model);
            assertTrue(logProbs.isAlive(), "alive while nothing has collected the session");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (logProbs.isAlive() && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertTrue(!logProbs.isAlive(), "the cache of an unreachable session was freed within 20 s of collections");
        }
    }

    /** Starts a session, steps once and drops it without closing; returns its last log-probabilities. */
    private static FloatTensor forgottenSession(Transformer model) {
        DecodingSession session = model.startDecoding(new int[][] {{3, 4}}, 1, 2);
        return session.step(BOS);
    }
}
