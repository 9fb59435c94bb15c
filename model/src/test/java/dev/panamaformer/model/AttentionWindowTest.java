package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The attention window ({@link TransformerConfig#attentionWindow()}): keys further from a query's id than it are not seen. */
class AttentionWindowTest {
    private static final int SRC = 12;
    private static final int TGT = 4;

    private static TransformerConfig config(TransformerConfig.Positions positions, int window) {
        return new TransformerConfig(11, 9, 8, 1, 2, 12, 16, 0f, 0f, 1e-5f, TransformerConfig.Activation.GELU, positions,
                TestModels.PAD).withAttentionWindow(window);
    }

    private static float[] logits(TransformerConfig config, long seed, boolean fused, int[] src, int[] tgtIn) {
        RunOptions options = RunOptions.defaults().withFusedAttentionFrom(fused ? 1 : Integer.MAX_VALUE);
        int[] srcIds = new int[SRC], tgtIds = new int[TGT];
        Arrays.setAll(srcIds, i -> i);
        Arrays.setAll(tgtIds, i -> i);
        try (Transformer model = new Transformer(config, seed, options)) {
            model.forward(new Batch(1, SRC, TGT, src, tgtIn, tgtIn, srcIds, tgtIds), false, 0);
            return model.logits().toArray();
        }
    }

    /**
     * One layer, window w, sources at ids 0..11, targets at 0..3: a target at id q reads the
     * encoder's outputs within w of q, each made of the sources within w of it, so no source
     * beyond id 3 + 2w reaches any target: changing those leaves every logit's bits as they were,
     * on the materialized and the fused path; without the window the same change shows.
     */
    @Property(tries = 30)
    void sourcesBeyondTheReachChangeNothing(@ForAll("windowed") TransformerConfig.Positions positions,
                                            @ForAll @IntRange(min = 1, max = 2) int window, @ForAll boolean fused,
                                            @ForAll long seed) {
        Random r = new Random(seed);
        int[] src = new int[SRC], tgtIn = new int[TGT];
        Arrays.setAll(src, i -> 1 + r.nextInt(10));
        Arrays.setAll(tgtIn, i -> 1 + r.nextInt(8));
        int[] changed = src.clone();
        for (int i = TGT + 2 * window; i < SRC; i++) {
            changed[i] = 1 + (src[i] % 10); // another token, beyond every target's reach
        }
        TransformerConfig windowed = config(positions, window);
        assertArrayEquals(logits(windowed, seed, fused, src, tgtIn), logits(windowed, seed, fused, changed, tgtIn),
                positions + ", window " + window + ": a source beyond the reach changed a logit");
        TransformerConfig open = config(positions, 0);
        assertFalse(Arrays.equals(logits(open, seed, fused, src, tgtIn), logits(open, seed, fused, changed, tgtIn)),
                positions + " without a window: the change should show");
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<TransformerConfig.Positions> windowed() {
        return net.jqwik.api.Arbitraries.of(TransformerConfig.Positions.LEARNED, TransformerConfig.Positions.SINUSOIDAL,
                TransformerConfig.Positions.ROPE, TransformerConfig.Positions.ROPE_CROSS, TransformerConfig.Positions.NONE);
    }

    @Example
    void theWindowRoundTripsAndIsRefusedWhereItIsNotBuilt() {
        TransformerConfig c = config(TransformerConfig.Positions.ROPE_CROSS, 3);
        assertEquals(3, c.attentionWindow());
        assertEquals(c, TransformerConfig.fromJson(c.toJson()));
        // configs from before the window: absent, 0, and not written when 0
        TransformerConfig none = c.withAttentionWindow(0);
        assertFalse(none.toJson().contains("attention_window"), none.toJson());
        assertEquals(none, TransformerConfig.fromJson(none.toJson()));
        var e = assertThrows(IllegalArgumentException.class, () -> c.withAttentionWindow(-1));
        assertTrue(e.getMessage().contains("attentionWindow"), e.getMessage());
        for (TransformerConfig.Positions p : new TransformerConfig.Positions[] {TransformerConfig.Positions.T5,
                TransformerConfig.Positions.T5_CROSS, TransformerConfig.Positions.ALIBI}) {
            e = assertThrows(IllegalArgumentException.class, () -> config(p, 1));
            assertTrue(e.getMessage().contains("attentionWindow 1 with positions " + p), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class,
                () -> TransformerConfig.fromJson(c.toJson().replaceAll("\"attention_window\"\\s*:\\s*3", "\"attention_window\": 1.5")));
        assertTrue(e.getMessage().contains("attention_window"), e.getMessage());
    }
}
