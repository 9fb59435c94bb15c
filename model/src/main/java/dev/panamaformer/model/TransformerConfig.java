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
 * @param positions         learned table (the reference) or fixed sinusoids (the paper)
 * @param padId             the padding token in both vocabularies: masked as a key, ignored as a target
 * @param fusedAttentionFrom attention over this many keys or more takes the fused kernel (no
 *                          (T, T) score matrix); shorter attention materializes its scores. 1 always
 *                          fuses; a value above {@code maxPositions} never does
 */
public record TransformerConfig(int srcVocabSize, int tgtVocabSize, int hiddenSize, int numLayers, int numHeads,
                                int intermediateSize, int maxPositions, float dropout, float attentionDropout,
                                float layerNormEps, Activation activation, Positions positions, int padId,
                                int fusedAttentionFrom) {

    public enum Activation { RELU, GELU }

    public enum Positions { LEARNED, SINUSOIDAL }

    /**
     * The default of {@link #fusedAttentionFrom}, from bench/AttentionBenchmark (bench/README.md:
     * one sequence, 8 heads of 64, 2 threads, forward plus backward): the fused path was 1.33x and
     * 1.39x faster at 32 and 64 keys, 1.23x at 128 and 512, 1.15x at 1024 and 1.21x at 4096, where
     * it needs 17 MiB instead of the materialized path's 2.5 GiB per layer. Shorter attention (the
     * worked examples' 3 to 20 tokens) stays materialized.
     */
    public static final int DEFAULT_FUSED_ATTENTION_FROM = 32;

    public TransformerConfig {
        positive("srcVocabSize", srcVocabSize);
        positive("tgtVocabSize", tgtVocabSize);
        positive("hiddenSize", hiddenSize);
        positive("numLayers", numLayers);
        positive("numHeads", numHeads);
        positive("intermediateSize", intermediateSize);
        positive("maxPositions", maxPositions);
        positive("fusedAttentionFrom", fusedAttentionFrom);
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
        if (padId < 0 || padId >= Math.min(srcVocabSize, tgtVocabSize)) {
            throw new IllegalArgumentException("padId " + padId + " is outside both vocabularies [0, "
                    + Math.min(srcVocabSize, tgtVocabSize) + ")");
        }
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
            return Math.addExact(Math.addExact(embeddings, layers), 2 * norm + linear(c, tgtVocabSize));
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
                0.1f, 0.1f, 1e-5f, Activation.RELU, Positions.LEARNED, 0, DEFAULT_FUSED_ATTENTION_FROM);
    }

    public TransformerConfig withDropout(float dropout, float attentionDropout) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, fusedAttentionFrom);
    }

    public TransformerConfig withActivation(Activation activation) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, fusedAttentionFrom);
    }

    public TransformerConfig withPositions(Positions positions) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, fusedAttentionFrom);
    }

    public TransformerConfig withVocab(int srcVocabSize, int tgtVocabSize, int padId) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, fusedAttentionFrom);
    }

    public TransformerConfig withLayerNormEps(float eps) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, eps, activation, positions, padId, fusedAttentionFrom);
    }

    /** This config with attention over {@code keys} keys or more taking the fused kernel. */
    public TransformerConfig withFusedAttentionFrom(int keys) {
        return new TransformerConfig(srcVocabSize, tgtVocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, dropout, attentionDropout, layerNormEps, activation, positions, padId, keys);
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
        m.put("fused_attention_from", fusedAttentionFrom);
        return Json.write(m);
    }

    /**
     * Reads {@link #toJson()}'s form; a missing key or a bad value raises IllegalArgumentException
     * naming it. {@code fused_attention_from} may be absent (checkpoints from before it existed):
     * it then takes its default.
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
                m.containsKey("fused_attention_from") ? integer(m, "fused_attention_from") : DEFAULT_FUSED_ATTENTION_FROM);
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
