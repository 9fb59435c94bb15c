package dev.panamaformer.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Every hyper-parameter of the encoder-decoder Transformer, validated when built.
 *
 * @param srcVocabSize      source token ids are in [0, srcVocabSize)
 * @param tgtVocabSize      target token ids are in [0, tgtVocabSize)
 * @param hiddenSize        d_model
 * @param numLayers         N, the same for encoder and decoder
 * @param numHeads          h; d_k = hiddenSize / numHeads
 * @param intermediateSize  d_ff of the feed-forward sublayer
 * @param maxPositions      the longest sequence the position encoding covers
 * @param dropout           on embeddings, sublayer outputs and inside the feed-forward
 * @param attentionDropout  on the attention probabilities
 * @param layerNormEps      added to the variance in every LayerNorm
 * @param activation        of the feed-forward sublayer
 * @param positions         learned table (the reference), fixed sinusoids (the paper), rotary (RoPE) or none; see {@link Positions}
 * @param padId             the padding token in both vocabularies: masked as a key, ignored as a target
 * @param ropeScale         RoPE's position scale: position m turns pair i of a head by
 *                          {@code m / ropeScale * 10000^(-2i/d_k)} (1: the paper's angles; above 1 slower, as
 *                          position interpolation does, Chen et al. 2023; below 1 faster, which the addition
 *                          task's coupled encoding trains best with). Read by {@code ROPE} and
 *                          {@code ROPE_CROSS} only
 * @param attentionWindow   0: a query attends to every key (the Transformer); w > 0: only to keys
 *                          whose position id is within w of its own, in each of the three attentions
 *                          (cross-attention: a target query's id against a source key's), keys further
 *                          away held off by a fixed bias of {@link #OUT_OF_WINDOW} (local attention, by
 *                          ids: with the addition task's coupled ids, w = 1 lets a digit see only its own
 *                          significance and the ones beside it, at any length). A query with no key in
 *                          its window (cross-attention only) weighs its keys near evenly: give every
 *                          query a key within reach. Not with {@code T5},
 *                          {@code T5_CROSS} or {@code ALIBI}, whose own bias tables it would have to
 *                          join (not built)
 * @see RunOptions how a model runs (kernels, threads, fused attention), which is not part of its config
 */
public record TransformerConfig(int srcVocabSize, int tgtVocabSize, int hiddenSize, int numLayers, int numHeads,
                                int intermediateSize, int maxPositions, float dropout, float attentionDropout,
                                float layerNormEps, Activation activation, Positions positions, int padId, float ropeScale,
                                int attentionWindow) {

    public enum Activation { RELU, GELU }

    /**
     * How the model knows where a token is. {@code LEARNED}: a trained table added to the token
     * embeddings (the reference); {@code SINUSOIDAL}: the paper's fixed table, added alike;
     * {@code ROPE}: no table, the queries and keys of self-attention (encoder and decoder) are
     * rotated by their positions (Su et al. 2021), so attention sees relative distances.
     * Cross-attention has no rotation: with ordinary positions its queries (target positions)
     * and keys (source positions) lie on two different axes, so their difference means nothing.
     * {@code ROPE_CROSS}: RoPE in cross-attention too, queries rotated by their target ids and
     * keys by their source ids, for data whose ids share one axis: ids a task gives by meaning
     * (the addition task's coupled encoding numbers a digit by its significance on both sides,
     * so a query finds the digits it adds at distance 0 and the carry at distance 1, at any
     * length). {@code NONE}: no position information at all; the decoder's causal mask still
     * lets it count (NoPE, Kazemnejad et al. 2023), but the encoder sees its source as a bag of
     * tokens. {@code T5}: a learned bias per head and bucket of the distance between a key's and
     * a query's ids, added to the scores of self-attention (encoder: both sides apart; decoder:
     * causal), one table per stack shared by its layers, as T5 has it (Raffel et al. 2020; 32
     * buckets, log-spaced from distance 8 (bidirectional) or 16 (causal) up to 128). {@code ALIBI}: a
     * fixed bias {@code -m_h·|distance|} in self-attention, with the paper's slopes m_h (Press
     * et al. 2022). Neither has anything in cross-attention, for the reason RoPE has none there.
     * {@code T5_CROSS}: T5's bias in cross-attention too, a third learned table (both sides
     * apart) by the distance between a source key's id and a target query's, for data whose ids
     * share one axis, as {@code ROPE_CROSS} is for RoPE.
     */
    public enum Positions { LEARNED, SINUSOIDAL, ROPE, ROPE_CROSS, NONE, T5, ALIBI, T5_CROSS }

    /**
     * Keys that checkpoints of earlier versions wrote into the config and that are no longer part
     * of it: {@code fused_attention_from} is a {@link RunOptions} now. {@link #fromJson} ignores them.
     */
    public static final java.util.Set<String> RETIRED_KEYS = java.util.Set.of("fused_attention_from");

    /** The bias that holds a key outside a query's {@link #attentionWindow} off: its weight is exp(-1e9) = 0. */
    public static final float OUT_OF_WINDOW = -1e9f;
    /** The widest {@link #attentionWindow}: its bias table has 2 (w + 1) + 1 columns per head. */
    public static final int MAX_WINDOW = 1 << 16;

    public TransformerConfig {
        positive("srcVocabSize", srcVocabSize);
        positive("tgtVocabSize", tgtVocabSize);
        positive("hiddenSize", hiddenSize);
        positive("numLayers", numLayers);
        positive("numHeads", numHeads);
        positive("intermediateSize", intermediateSize);
        positive("maxPositions", maxPositions);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hiddenSize " + hiddenSize + " is not divisible by numHeads " + numHeads);
        }
        probability("dropout", dropout);
        probability("attentionDropout", attentionDropout);
        if (!(layerNormEps > 0f) || Float.isInfinite(layerNormEps)) {
            throw new IllegalArgumentException("layerNormEps must be positive and finite, got " + layerNormEps);
        }
        if (activation == null || positions == null) {
            throw new IllegalArgumentException("activation and positions must be set");
        }
        if (!(ropeScale > 0f) || Float.isInfinite(ropeScale)) {
            throw new IllegalArgumentException("ropeScale must be positive and finite, got " + ropeScale);
        }
        if (attentionWindow < 0 || attentionWindow > MAX_WINDOW) {
            throw new IllegalArgumentException("attentionWindow must be 0 (every key) or in [1, " + MAX_WINDOW + "], got "
                    + attentionWindow + " (a window as wide as every distance between ids is 0)");
        }
        if (attentionWindow > 0 && (positions == Positions.T5 || positions == Positions.T5_CROSS || positions == Positions.ALIBI)) {
            throw new IllegalArgumentException("attentionWindow " + attentionWindow + " with positions " + positions
                    + ": a window is built for position types without a bias table of their own (learned, sinusoidal, rope,"
                    + " rope_cross, none)");
        }
        if (padId < 0 || padId >= Math.min(srcVocabSize, tgtVocabSize)) {
            throw new IllegalArgumentException("padId " + padId + " is outside both vocabularies [0, "
                    + Math.min(srcVocabSize, tgtVocabSize) + ")");
        }
    }

    /** A config in which every query attends to every key (attentionWindow 0). */
    public TransformerConfig(int srcVocabSize, int tgtVocabSize, int hiddenSize, int numLayers, int numHeads,
                             int intermediateSize, int maxPositions, float dropout, float attentionDropout,
                             float layerNormEps, Activation activation, Positions positions, int padId, float ropeScale) {
        this(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, dropout,
                attentionDropout, layerNormEps, activation, positions, padId, ropeScale, 0);
    }

    /** A config with RoPE's angles as in the paper (ropeScale 1) and no attention window. */
    public TransformerConfig(int srcVocabSize, int tgtVocabSize, int hiddenSize, int numLayers, int numHeads,
                             int intermediateSize, int maxPositions, float dropout, float attentionDropout,
                             float layerNormEps, Activation activation, Positions positions, int padId) {
        this(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, dropout,
                attentionDropout, layerNormEps, activation, positions, padId, 1f, 0);
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    private static void probability(String name, float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + p);
        }
    }

    /**
     * How many parameter values a model of this config holds (each a float; training adds a
     * gradient and two Adam moments per value), from the sizes alone, without building it:
     * {@code Long.MAX_VALUE} if the count overflows. Checked against built models by a property.
     */
    public long parameterCount() {
        try {
            long c = hiddenSize, f = intermediateSize;
            long norm = 2 * c;
            long attention = 4 * linear(c, c);
            long feedForward = linear(c, f) + linear(f, c);
            long positionTable = positions == Positions.LEARNED ? Math.multiplyExact((long) maxPositions, c) : 0;
            long encoderLayer = 2 * norm + attention + feedForward;
            long decoderLayer = 3 * norm + 2 * attention + feedForward;
            long embeddings = Math.addExact(Math.multiplyExact((long) srcVocabSize + tgtVocabSize, c), 2 * (positionTable + norm));
            long layers = Math.multiplyExact((long) numLayers, Math.addExact(encoderLayer, decoderLayer));
            // RelativeBias.T5_BUCKETS per head, per table: one per stack, and cross-attention's
            long biasTables = positions == Positions.T5 ? 2L * 32 * numHeads : positions == Positions.T5_CROSS ? 3L * 32 * numHeads : 0;
            return Math.addExact(Math.addExact(embeddings, layers), 2 * norm + linear(c, tgtVocabSize) + biasTables);
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /** Weights and bias of a linear layer from {@code in} to {@code out} features. */
    private static long linear(long in, long out) {
        return Math.addExact(Math.multiplyExact(in, out), out);
    }

    /** d_k, the width of one attention head. */
    public int headSize() {
        return hiddenSize / numHeads;
    }

    /** The reference's defaults around the sizes: dropout 0.1, eps 1e-5, ReLU, learned positions, pad 0. */
    public static TransformerConfig of(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                                       int maxPositions) {
        return new TransformerConfig(vocabSize, vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions,
                0.1f, 0.1f, 1e-5f, Activation.RELU, Positions.LEARNED, 0);
    }

    public TransformerConfig withDropout(float dropout, float attentionDropout) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    public TransformerConfig withActivation(Activation activation) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    public TransformerConfig withPositions(Positions positions) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    /** This config with {@code maxPositions} positions (the learned tables' rows, and the longest sequence). */
    public TransformerConfig withMaxPositions(int maxPositions) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    public TransformerConfig withRopeScale(float ropeScale) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    /** This config with {@code attentionWindow} (0: every key). */
    public TransformerConfig withAttentionWindow(int attentionWindow) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    public TransformerConfig withVocab(int srcVocabSize, int tgtVocabSize, int padId) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, ropeScale, attentionWindow);
    }

    public TransformerConfig withLayerNormEps(float eps) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, eps, activation, positions, padId, ropeScale, attentionWindow);
    }

    /** The config as a JSON object with snake_case keys, as stored in checkpoints. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("src_vocab_size", srcVocabSize);
        m.put("tgt_vocab_size", tgtVocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("num_hidden_layers", numLayers);
        m.put("num_attention_heads", numHeads);
        m.put("intermediate_size", intermediateSize);
        m.put("max_position_embeddings", maxPositions);
        m.put("hidden_dropout_prob", dropout);
        m.put("attention_probs_dropout_prob", attentionDropout);
        m.put("layer_norm_eps", layerNormEps);
        m.put("hidden_act", activation.name().toLowerCase(Locale.ROOT));
        m.put("position_embedding_type", positions.name().toLowerCase(Locale.ROOT));
        m.put("pad_token_id", padId);
        m.put("rope_position_scale", ropeScale);
        if (attentionWindow > 0) { // absent: every key, as in checkpoints from before the window
            m.put("attention_window", attentionWindow);
        }
        return Json.write(m);
    }

    /**
     * Reads {@link #toJson()}'s form; a missing key or a bad value raises IllegalArgumentException
     * naming it. Keys of {@link #RETIRED_KEYS} are ignored; {@code rope_position_scale}, which
     * checkpoints before it did not write, is 1 where absent, and {@code attention_window} 0.
     */
    public static TransformerConfig fromJson(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        return new TransformerConfig(integer(m, "src_vocab_size"), integer(m, "tgt_vocab_size"), integer(m, "hidden_size"),
                integer(m, "num_hidden_layers"), integer(m, "num_attention_heads"), integer(m, "intermediate_size"),
                integer(m, "max_position_embeddings"), real(m, "hidden_dropout_prob"), real(m, "attention_probs_dropout_prob"),
                real(m, "layer_norm_eps"), choice(m, "hidden_act", Activation.class),
                choice(m, "position_embedding_type", Positions.class), integer(m, "pad_token_id"),
                m.containsKey("rope_position_scale") ? real(m, "rope_position_scale") : 1f, // absent before it existed
                m.containsKey("attention_window") ? integer(m, "attention_window") : 0);
    }

    private static Object field(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("config has no '" + key + "'");
        }
        return v;
    }

    private static int integer(Map<?, ?> m, String key) {
        if (field(m, key) instanceof Long l && l == (int) (long) l) {
            return (int) (long) l;
        }
        throw new IllegalArgumentException("config '" + key + "' is not an integer: " + m.get(key));
    }

    private static float real(Map<?, ?> m, String key) {
        if (field(m, key) instanceof Number n) {
            return n.floatValue();
        }
        throw new IllegalArgumentException("config '" + key + "' is not a number: " + m.get(key));
    }

    private static <E extends Enum<E>> E choice(Map<?, ?> m, String key, Class<E> type) {
        Object v = field(m, key);
        try {
            return Enum.valueOf(type, String.valueOf(v).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config '" + key + "' is not one of " + java.util.Arrays.toString(type.getEnumConstants())
                    + ": " + v);
        }
    }
}
