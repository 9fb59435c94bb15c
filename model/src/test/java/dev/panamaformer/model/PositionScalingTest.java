package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.RotaryTable;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Decoding past the trained positions ({@link PositionScaling}): nothing changes inside the
 * trained length; past it, a session computes what a model with the scaled tables computes
 * without scaling; learned positions past their table need interpolation, asked for by name.
 */
class PositionScalingTest {
    private static final int MAX = 10;

    private static TransformerConfig config(TransformerConfig.Positions positions) {
        return TestModels.tiny(TransformerConfig.Activation.GELU, positions); // 10 positions
    }

    @Property(tries = 24)
    void insideTheTrainedLengthScalingChangesNothing(@ForAll TransformerConfig.Positions positions, @ForAll boolean ntk,
                                                     @ForAll @IntRange(min = 2, max = MAX) int trained, @ForAll long seed) {
        if (positions == TransformerConfig.Positions.NONE || positions == TransformerConfig.Positions.T5
                || positions == TransformerConfig.Positions.ALIBI || positions == TransformerConfig.Positions.T5_CROSS
                || (ntk && !rope(positions))) {
            return; // refused when the model is made: aScalingThatCannotApplyIsRefusedWhenTheModelIsMade
        }
        TransformerConfig c = config(positions);
        Random random = new Random(seed);
        int steps = 1 + random.nextInt(trained);
        int[][] sources = sources(random, c, 3, trained);
        PositionScaling scaling = ntk ? PositionScaling.ntk(trained, 4 * MAX) : PositionScaling.linear(trained, 4 * MAX);
        try (Transformer plain = new Transformer(c, seed);
             Transformer scaled = new Transformer(c, seed, RunOptions.defaults().withPositionScaling(scaling))) {
            assertArrayEquals(decode(plain, sources, steps), decode(scaled, sources, steps),
                    positions + ", " + scaling + ", " + steps + " steps over sources " + Arrays.deepToString(sources));
        }
    }

    @Test
    void learnedPositionsPastTheTableAskForInterpolation() {
        try (Transformer model = new Transformer(config(TransformerConfig.Positions.LEARNED), 1)) {
            IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                    () -> model.startDecoding(new int[][] {{1, 2}}, 1, 2 * MAX));
            assertTrue(steps.getMessage().contains("interpolate positions") && steps.getMessage().contains("PositionScaling.linear"),
                    steps.getMessage());
            int[] longSource = new int[MAX + 2];
            Arrays.fill(longSource, 1);
            IllegalArgumentException source = assertThrows(IllegalArgumentException.class,
                    () -> model.startDecoding(new int[][] {longSource}, 1, 2));
            assertTrue(source.getMessage().contains("interpolate positions"), source.getMessage());
            IllegalArgumentException greedy = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedy(model, new int[][] {{1, 2}}, 1, 2, 2 * MAX));
            assertTrue(greedy.getMessage().contains("interpolate positions"), greedy.getMessage());
        }
    }

    @Property(tries = 12)
    void interpolatedLearnedPositionsAreTheTableReadBetweenItsRows(@ForAll @IntRange(min = MAX + 1, max = 4 * MAX) int needed,
                                                                    @ForAll long seed) {
        TransformerConfig c = config(TransformerConfig.Positions.LEARNED);
        TransformerConfig wide = c.withMaxPositions(needed);
        Random random = new Random(seed);
        int[][] sources = sources(random, c, 2, MAX);
        try (Transformer scaled = new Transformer(c, seed,
                     RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 4 * MAX)));
             Transformer reference = new Transformer(wide, seed + 1)) {
            for (Parameter p : scaled.parameters().list()) {
                float[] values = p.value().toArray();
                if (p.name().endsWith(".position.weight")) {
                    values = interpolate(values, MAX, needed, c.hiddenSize());
                }
                reference.parameters().get(p.name()).value().copyFrom(values);
            }
            assertArrayEquals(decode(reference, sources, needed), decode(scaled, sources, needed), needed + " positions");
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransformerConfig.Positions.class, names = {"ROPE", "ROPE_CROSS"})
    void interpolatedRopeTurnsByTheAnglesOfAModelWithPositionsScaledDown(TransformerConfig.Positions positions) {
        TransformerConfig c = config(positions).withRopeScale(1.5f);
        // twice the trained length: the scaled model's angles are those of ropeScale 3
        TransformerConfig reference = c.withMaxPositions(2 * MAX).withRopeScale(3f);
        int[][] sources = sources(new Random(7), c, 3, 2 * MAX);
        try (Transformer scaled = new Transformer(c, 5, RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 2 * MAX)));
             Transformer wide = new Transformer(reference, 6)) {
            wide.parameters().values().copyFrom(scaled.parameters().values().toArray());
            assertArrayEquals(decode(wide, sources, 2 * MAX), decode(scaled, sources, 2 * MAX));
        }
    }

    @Test
    void interpolatedSinusoidsAreTheTrainedOnesAtFractionalPositions() {
        try (Arena arena = Arena.ofConfined()) {
            int width = 8;
            float[] trained = Embeddings.sinusoids(arena, MAX, width).toArray();
            float[] scaled = Embeddings.sinusoids(arena, 2 * MAX, width, 2).toArray();
            for (int p = 0; p < MAX; p++) {
                assertArrayEquals(Arrays.copyOfRange(trained, p * width, (p + 1) * width),
                        Arrays.copyOfRange(scaled, 2 * p * width, (2 * p + 1) * width), "position " + 2 * p + " of the scaled table");
            }
        }
    }

    @Test
    void ntkScalingRaisesRopesBaseAndKeepsItsPositions() {
        assertEquals(10_000 * Math.pow(2, 4 / 2.0), PositionScaling.ntkBase(10_000, 2, 4), 1e-9);
        assertEquals(10_000 * Math.pow(3, 64 / 62.0), PositionScaling.ntkBase(10_000, 3, 64), 1e-6);
        try (Arena arena = Arena.ofConfined()) {
            RotaryTable t = PositionScaling.ntk(MAX, 4 * MAX).rotary(arena, 3 * MAX, 4, 1.5);
            assertEquals(PositionScaling.ntkBase(RotaryTable.BASE, 3, 4), t.base(), 0);
            assertEquals(1.5, t.positionScale(), 0);
            assertEquals(3 * MAX, t.positions());
            RotaryTable linear = PositionScaling.linear(MAX, 4 * MAX).rotary(arena, 3 * MAX, 4, 1.5);
            assertEquals(RotaryTable.BASE, linear.base(), 0);
            assertEquals(4.5, linear.positionScale(), 1e-12);
        }
        TransformerConfig c = config(TransformerConfig.Positions.ROPE);
        int[][] sources = sources(new Random(3), c, 2, 3 * MAX);
        try (Transformer ntk = new Transformer(c, 9, RunOptions.defaults().withPositionScaling(PositionScaling.ntk(MAX, 4 * MAX)));
             Transformer linear = new Transformer(c, 9, RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 4 * MAX)))) {
            float[] a = decode(ntk, sources, 3 * MAX), b = decode(linear, sources, 3 * MAX);
            for (float v : a) {
                assertTrue(Float.isFinite(v) && v <= 0, "a log-probability " + v);
            }
            assertFalse(Arrays.equals(a, b), "NTK-aware scaling gave the log-probabilities of interpolation");
        }
    }

    @Test
    void aScalingThatCannotApplyIsRefusedWhenTheModelIsMade() {
        RunOptions ntk = RunOptions.defaults().withPositionScaling(PositionScaling.ntk(MAX, 2 * MAX));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Transformer(config(TransformerConfig.Positions.LEARNED), 1, ntk));
        assertTrue(e.getMessage().contains("NTK") && e.getMessage().contains("learned"), e.getMessage());
        RunOptions linear = RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 2 * MAX));
        e = assertThrows(IllegalArgumentException.class, () -> new Transformer(config(TransformerConfig.Positions.NONE), 1, linear));
        assertTrue(e.getMessage().contains("without positions"), e.getMessage());
        for (TransformerConfig.Positions bias : new TransformerConfig.Positions[] {TransformerConfig.Positions.T5,
                TransformerConfig.Positions.ALIBI}) {
            e = assertThrows(IllegalArgumentException.class, () -> new Transformer(config(bias), 1, linear));
            assertTrue(e.getMessage().contains("bias by distance"), e.getMessage());
        }
        RunOptions tooLong = RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX + 1, 2 * MAX));
        e = assertThrows(IllegalArgumentException.class, () -> new Transformer(config(TransformerConfig.Positions.ROPE), 1, tooLong));
        assertTrue(e.getMessage().contains("trained length " + (MAX + 1)), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PositionScaling.linear(1, 5));
        assertThrows(IllegalArgumentException.class, () -> PositionScaling.linear(10, 5));
        assertThrows(IllegalArgumentException.class, () -> new PositionScaling(null, 10, 20));
    }

    @Test
    void decodingPastTheTrainedLengthRunsUpToTheScalingsLimitOnly() {
        TransformerConfig c = config(TransformerConfig.Positions.LEARNED);
        try (Transformer model = new Transformer(c, 2, RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 3 * MAX)))) {
            assertEquals(3 * MAX, model.positionLimit());
            int[][] out = Decoding.greedy(model, new int[][] {{1, 2, 3}}, 1, -1, 3 * MAX);
            assertEquals(3 * MAX, out[0].length); // no end token: every step ran
            assertThrows(IllegalArgumentException.class, () -> Decoding.greedy(model, new int[][] {{1}}, 1, -1, 3 * MAX + 1));
            // a forward pass (training, or recomputing) never scales
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedyRecompute(model, new int[][] {{1}}, 1, -1, 2 * MAX));
            assertTrue(e.getMessage().contains("[1, " + MAX + "]"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransformerConfig.Positions.class, names = {"LEARNED", "SINUSOIDAL", "ROPE_CROSS"})
    void aPooledSessionAfterAScaledOneTakesTheModelsTablesAgain(TransformerConfig.Positions positions) {
        TransformerConfig c = config(positions);
        int[][] sources = sources(new Random(4), c, 3, MAX);
        try (Transformer plain = new Transformer(c, 8);
             Transformer scaled = new Transformer(c, 8, RunOptions.defaults().withPositionScaling(PositionScaling.linear(MAX, 3 * MAX)))) {
            Decoding.greedy(scaled, sources, 1, -1, 3 * MAX); // scaled, in the model's pooled buffers
            Decoding.beamSearch(scaled, sources, 3, 1, 2, 3 * MAX, 1f);
            assertArrayEquals(Decoding.greedy(plain, sources, 1, -1, MAX), Decoding.greedy(scaled, sources, 1, -1, MAX));
            assertArrayEquals(Decoding.beamSearch(plain, sources, 3, 1, 2, MAX, 1f), Decoding.beamSearch(scaled, sources, 3, 1, 2, MAX, 1f));
        }
    }

    @Test
    void onlyADecodingSessionWithoutScalingIsToldAboutIt() {
        TransformerConfig c = config(TransformerConfig.Positions.LEARNED);
        try (Transformer scaled = new Transformer(c, 1, RunOptions.defaults().withPositionScaling(PositionScaling.linear(5, 8)));
             Transformer plain = new Transformer(c, 1)) {
            assertEquals(MAX, scaled.positionLimit(), "a maximum below the model's positions leaves them the limit");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> scaled.startDecoding(new int[][] {{1, 2}}, 1, MAX + 1));
            assertFalse(e.getMessage().contains("interpolate"), "scaling is on already: " + e.getMessage());
            int[] ids = new int[MAX + 1];
            Arrays.fill(ids, 1);
            Batch tooLong = new Batch(1, MAX + 1, 1, ids, new int[] {1}, new int[] {1});
            e = assertThrows(IllegalArgumentException.class, () -> plain.forward(tooLong, false, 0));
            assertTrue(e.getMessage().contains("exceed the " + MAX + " positions") && !e.getMessage().contains("interpolate"),
                    "training never scales: " + e.getMessage());
        }
    }

    private static boolean rope(TransformerConfig.Positions p) {
        return p == TransformerConfig.Positions.ROPE || p == TransformerConfig.Positions.ROPE_CROSS;
    }

    /** The learned rows at p (L - 1) / (n - 1), interpolated linearly in double, then rounded: the scaling's definition. */
    private static float[] interpolate(float[] table, int trained, int needed, int width) {
        float[] out = new float[needed * width];
        for (int p = 0; p < needed; p++) {
            double x = (double) p * (trained - 1) / (needed - 1);
            int low = (int) Math.floor(x), high = Math.min(low + 1, trained - 1);
            double w = x - low;
            for (int c = 0; c < width; c++) {
                out[p * width + c] = (float) ((1 - w) * table[low * width + c] + w * table[high * width + c]);
            }
        }
        return out;
    }

    /** {@code count} sources of 1 to {@code longest} random tokens (no padding ids). */
    private static int[][] sources(Random random, TransformerConfig c, int count, int longest) {
        int[][] sources = new int[count][];
        for (int i = 0; i < count; i++) {
            sources[i] = new int[1 + random.nextInt(longest)];
            for (int j = 0; j < sources[i].length; j++) {
                sources[i][j] = 1 + random.nextInt(c.srcVocabSize() - 1);
            }
        }
        return sources;
    }

    /** Every step's log-probabilities over {@code steps} steps, feeding a fixed sequence of tokens. */
    private static float[] decode(Transformer model, int[][] sources, int steps) {
        int vocab = model.config().tgtVocabSize();
        float[] all = new float[steps * sources.length * vocab];
        try (DecodingSession session = model.startDecoding(sources, 1, steps)) {
            int[] tokens = new int[sources.length];
            for (int t = 0; t < steps; t++) {
                for (int r = 0; r < tokens.length; r++) {
                    tokens[r] = 1 + (3 * t + r) % (vocab - 1);
                }
                FloatTensor logProbs = session.step(tokens);
                float[] row = logProbs.toArray();
                System.arraycopy(row, 0, all, t * tokens.length * vocab, tokens.length * vocab);
            }
        }
        return all;
    }
}
