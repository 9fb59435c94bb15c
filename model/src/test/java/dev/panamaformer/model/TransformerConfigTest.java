package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TransformerConfigTest {
    private static final TransformerConfig COPY = TransformerConfig.of(20, 64, 2, 2, 128, 20);

    @Test
    void invalidConfigsAreRefusedWithTheReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.of(20, 64, 2, 3, 128, 20));
        assertTrue(e.getMessage().contains("not divisible"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.of(20, 64, 0, 2, 128, 20));
        assertTrue(e.getMessage().contains("numLayers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> COPY.withDropout(1f, 0f));
        assertTrue(e.getMessage().contains("dropout"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> COPY.withDropout(-0.1f, 0f));
        assertThrows(IllegalArgumentException.class, () -> COPY.withDropout(0.1f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> COPY.withLayerNormEps(0f));
        assertThrows(IllegalArgumentException.class, () -> COPY.withVocab(20, 20, 20));
        assertThrows(IllegalArgumentException.class, () -> TransformerConfig.of(0, 64, 2, 2, 128, 20));
        e = assertThrows(IllegalArgumentException.class, () -> RunOptions.defaults().withFusedAttentionFrom(0));
        assertTrue(e.getMessage().contains("fusedAttentionFrom"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RunOptions.defaults().withKernels(null));
        assertTrue(e.getMessage().contains("kernels"), e.getMessage());
    }

    /** How the model runs is not what it is: the attention path is a run option, and the key earlier checkpoints wrote is ignored. */
    @Test
    void runOptionsAreNotPartOfTheConfig() {
        assertTrue(!COPY.toJson().contains("fused"), COPY.toJson());
        String old = COPY.toJson().replace("\"pad_token_id\"", "\"fused_attention_from\": 7, \"pad_token_id\"");
        assertTrue(old.contains("fused_attention_from"), old);
        assertEquals(COPY, TransformerConfig.fromJson(old));
        assertEquals(COPY, TransformerConfig.fromJson(old.replace(": 7,", ": \"anything\",")));
    }

    @Test
    void jsonRoundTripsAndNamesWhatIsMissing() {
        TransformerConfig c = COPY.withActivation(TransformerConfig.Activation.GELU).withPositions(TransformerConfig.Positions.SINUSOIDAL)
                .withVocab(21, 23, 3).withDropout(0.25f, 0.125f);
        assertEquals(c, TransformerConfig.fromJson(c.toJson()));
        var e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.fromJson(c.toJson().replace("\"hidden_size\"", "\"x\"")));
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.fromJson(c.toJson().replace("\"gelu\"", "\"swish\"")));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
        TransformerConfig rope = c.withPositions(TransformerConfig.Positions.ROPE_CROSS).withRopeScale(0.25f);
        assertEquals(rope, TransformerConfig.fromJson(rope.toJson()));
        // checkpoints before the scale existed did not write it: 1, the paper's angles
        String before = rope.toJson().replaceAll(",\\s*\"rope_position_scale\"\\s*:\\s*[0-9.]+", "");
        assertTrue(!before.contains("rope_position_scale"), before);
        assertEquals(rope.withRopeScale(1f), TransformerConfig.fromJson(before));
        e = assertThrows(IllegalArgumentException.class, () -> c.withRopeScale(0f));
        assertTrue(e.getMessage().contains("ropeScale must be positive"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransformerConfig.fromJson("[1, 2]"));
        assertThrows(IllegalArgumentException.class, () -> TransformerConfig.fromJson("{\"src_vocab_size\": "));
    }

    @Property(tries = 40)
    void parameterCountIsWhatABuiltModelHolds(@ForAll @IntRange(min = 2, max = 30) int srcVocab, @ForAll @IntRange(min = 2, max = 30) int tgtVocab,
                                              @ForAll @IntRange(min = 1, max = 4) int heads, @ForAll @IntRange(min = 1, max = 8) int headSize,
                                              @ForAll @IntRange(min = 0, max = 3) int layers, @ForAll @IntRange(min = 1, max = 40) int ff,
                                              @ForAll @IntRange(min = 1, max = 30) int positions, @ForAll boolean learned) {
        TransformerConfig c = new TransformerConfig(srcVocab, tgtVocab, heads * headSize, Math.max(1, layers), heads, ff, positions,
                0f, 0f, 1e-5f, TransformerConfig.Activation.RELU,
                learned ? TransformerConfig.Positions.LEARNED : TransformerConfig.Positions.SINUSOIDAL, 0);
        try (Transformer model = new Transformer(c, 1)) {
            assertEquals(model.parameters().count(), c.parameterCount(), c.toJson());
        }
    }

    @Test
    void parameterCountSaturatesInsteadOfOverflowing() {
        TransformerConfig huge = new TransformerConfig(Integer.MAX_VALUE, Integer.MAX_VALUE, 1 << 30, 1 << 30, 1, 1 << 30, Integer.MAX_VALUE,
                0f, 0f, 1e-5f, TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED, 0);
        assertEquals(Long.MAX_VALUE, huge.parameterCount());
    }

    /** The CLI's memory estimate scales one example's buffers by the batch: they must be linear in it. */
    @Test
    void workspaceGrowsLinearlyInTheBatch() {
        TransformerConfig c = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.LEARNED);
        try (Transformer model = new Transformer(c, 1)) {
            model.forward(TestModels.randomBatch(new java.util.Random(1), c, 1, 6, 5), false, 0);
            long one = model.workspaceBytes();
            model.forward(TestModels.randomBatch(new java.util.Random(2), c, 7, 6, 5), false, 0);
            assertEquals(7 * one, model.workspaceBytes());
        }
    }
}
