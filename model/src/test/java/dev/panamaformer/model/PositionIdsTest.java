package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Explicit position ids ({@link Batch#srcPositions()}, {@link PositionIds}) in training and decoding. */
class PositionIdsTest {
    private static final int BOS = 1;
    private static final int EOS = 2;

    private static int[] sequential(int b, int length, int shift) {
        int[] ids = new int[b * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % length + shift;
        }
        return ids;
    }

    /** Ids that say what the default says give the default's bits, for every position type. */
    @Example
    void explicitSequentialIdsAreTheDefault() {
        for (TransformerConfig.Positions positions : TransformerConfig.Positions.values()) {
            TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
            Batch batch = TestModels.randomBatch(new Random(4), config, 3, 5, 4);
            try (Transformer model = new Transformer(config, 6)) {
                double implicit = model.forward(batch, false, 0);
                float[] expected = model.logProbs().toArray();
                double explicit = model.forward(TestModels.withPositions(batch, sequential(3, 5, 0), sequential(3, 4, 0)), false, 0);
                assertEquals(implicit, explicit, 0.0, positions.toString());
                assertArrayEquals(expected, model.logProbs().toArray(), positions.toString());
            }
        }
    }

    /**
     * Shifting every id by one moves a token to other rows of the learned and sinusoid tables,
     * which changes the output; RoPE sees only differences between ids (in cross-attention too,
     * where both sides shift alike), so it does not (to rounding); without positions nothing
     * reads them.
     */
    @Example
    void aCommonShiftMattersToAbsolutePositionsOnly() {
        for (TransformerConfig.Positions positions : TransformerConfig.Positions.values()) {
            TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
            Batch batch = TestModels.randomBatch(new Random(5), config, 2, 4, 3);
            try (Transformer model = new Transformer(config, 7)) {
                model.forward(batch, false, 0);
                float[] base = model.logProbs().toArray();
                model.forward(TestModels.withPositions(batch, sequential(2, 4, 3), sequential(2, 3, 3)), false, 0);
                float[] shifted = model.logProbs().toArray();
                double largest = 0;
                for (int i = 0; i < base.length; i++) {
                    largest = Math.max(largest, Math.abs(base[i] - shifted[i]));
                }
                switch (positions) {
                    case LEARNED, SINUSOIDAL -> assertTrue(largest > 1e-3, positions + ": " + largest);
                    case ROPE, ROPE_CROSS -> assertTrue(largest < 1e-4, positions + ": " + largest);
                    case T5, ALIBI, T5_CROSS -> assertEquals(0.0, largest, positions + ": a bias by distance sees no common shift");
                    case NONE -> assertEquals(0.0, largest, positions.toString());
                }
            }
        }
    }

    /** RoPE at scale 1/2 over ids is RoPE over doubled ids: the scale divides the ids, in both RoPE types. */
    @Example
    void ropeScaleMultipliesTheIds() {
        for (TransformerConfig.Positions positions : new TransformerConfig.Positions[] {TransformerConfig.Positions.ROPE,
                TransformerConfig.Positions.ROPE_CROSS}) {
            TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.GELU, positions);
            Batch batch = TestModels.randomBatch(new Random(8), config, 2, 4, 3);
            int[] src = sequential(2, 4, 0), tgt = sequential(2, 3, 0), src2 = src.clone(), tgt2 = tgt.clone();
            for (int i = 0; i < src2.length; i++) {
                src2[i] *= 2;
            }
            for (int i = 0; i < tgt2.length; i++) {
                tgt2[i] *= 2;
            }
            try (Transformer plain = new Transformer(config, 3); Transformer half = new Transformer(config.withRopeScale(0.5f), 3)) {
                plain.forward(TestModels.withPositions(batch, src2, tgt2), false, 0);
                half.forward(TestModels.withPositions(batch, src, tgt), false, 0);
                float[] a = plain.logProbs().toArray(), b = half.logProbs().toArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-4f, positions + " at " + i);
                }
                plain.forward(TestModels.withPositions(batch, src, tgt), false, 0);
                float[] c = plain.logProbs().toArray();
                double largest = 0;
                for (int i = 0; i < a.length; i++) {
                    largest = Math.max(largest, Math.abs(a[i] - c[i]));
                }
                assertTrue(largest > 1e-3, positions + ": the same ids at another scale turn by other angles, by " + largest);
            }
        }
    }

    /** Cached decoding at explicit ids gives the tokens of recomputing the prefix at the same ids, with and without an attention window. */
    @Property(tries = 20)
    void cachedDecodingAtExplicitIdsIsRecomputation(@ForAll TransformerConfig.Positions positions,
                                                    @ForAll @IntRange(min = 1, max = 4) int b,
                                                    @ForAll @IntRange(min = 1, max = 5) int maxLength, @ForAll long seed,
                                                    @ForAll @IntRange(min = 0, max = 2) int window) {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, positions);
        boolean ownBias = positions == TransformerConfig.Positions.T5 || positions == TransformerConfig.Positions.T5_CROSS
                || positions == TransformerConfig.Positions.ALIBI;
        config = ownBias ? config : config.withAttentionWindow(window); // an attention window where it is built
        Random r = new Random(seed);
        int[][] src = DecodingTest.sources(r, b, 6, config.srcVocabSize());
        int[][] srcIds = new int[b][];
        int[] start = new int[b];
        for (int i = 0; i < b; i++) {
            srcIds[i] = TestModels.randomIds(r, src[i].length, config.maxPositions());
            start[i] = r.nextInt(config.maxPositions() - maxLength + 1);
        }
        PositionIds ids = new PositionIds(srcIds, start);
        try (Transformer model = DecodingTest.decisive(config, seed)) {
            int[][] cached = Decoding.greedy(model, src, ids, BOS, EOS, maxLength);
            int[][] recomputed = Decoding.greedyRecompute(model, src, ids, BOS, EOS, maxLength);
            for (int i = 0; i < b; i++) {
                assertArrayEquals(recomputed[i], cached[i], "source " + i + " at " + Arrays.toString(srcIds[i]) + ", start " + start[i]);
            }
            int[][] beams = Decoding.beamSearch(model, src, ids, 1, BOS, EOS, maxLength, 1f);
            for (int i = 0; i < b; i++) {
                assertArrayEquals(cached[i], beams[i], "a beam of one is greedy, source " + i);
            }
        }
    }

    @Example
    void idsOutsideTheTableOrOfTheWrongCountAreRefusedByName() {
        TransformerConfig config = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);
        Batch batch = TestModels.randomBatch(new Random(1), config, 2, 3, 2);
        int[] far = sequential(2, 3, 0);
        far[4] = config.maxPositions();
        try (Transformer model = new Transformer(config, 1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(TestModels.withPositions(batch, far, null), false, 0));
            assertTrue(e.getMessage().contains("srcPositions position id 10 at (1, 1)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> TestModels.withPositions(batch, new int[5], null));
            assertTrue(e.getMessage().contains("srcPositions needs 6 ids"), e.getMessage());
            int[][] src = {{3, 4}, {5}};
            e = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedy(model, src, new PositionIds(new int[][] {{0, 1}, {0, 1}}, null), BOS, EOS, 3));
            assertTrue(e.getMessage().contains("source 1 has 1 tokens but 2 position ids"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedy(model, src, new PositionIds(null, new int[] {0, 8}), BOS, EOS, 3));
            assertTrue(e.getMessage().contains("source 1's target starts at position 8: 3 steps"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedy(model, src, new PositionIds(new int[][] {{0, -1}, {2}}, null), BOS, EOS, 3));
            assertTrue(e.getMessage().contains("position id -1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, src, null, BOS, EOS, 3));
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedyRecompute(model, src, null, BOS, EOS, 3));
            // the record keeps copies: a caller reusing its arrays changes nothing it handed over
            int[] start = {0, 1};
            PositionIds ids = new PositionIds(null, start);
            start[1] = 99;
            assertEquals(1, ids.targetStart()[1]);
            // nothing was left half-done: the model still decodes
            assertNotEquals(0, Decoding.greedy(model, src, BOS, -1, 3)[0].length);
        }
    }
}
