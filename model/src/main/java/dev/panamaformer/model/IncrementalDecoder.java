package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.PositionBias;
import dev.panamaformer.kernels.RotaryTable;
import java.lang.foreign.Arena;

/**
 * The inference path of a {@link Transformer}: encode sources into a key/value cache, then run
 * the decoder one position at a time over it. It uses the model's layers, read-only, and keeps
 * the idle decoding buffers ({@link DecodingBuffers}). It checks its arguments; the model guards
 * against training at the same time before calling it.
 *
 * <p>The computation is the same kernel calls as the model's forward pass with dropout off, so
 * cached decoding gives the bits of recomputing the whole prefix.
 */
final class IncrementalDecoder implements AutoCloseable {
    private final TransformerConfig config;
    private final Kernels kernels;
    private final Embeddings srcEmbed;
    private final EncoderLayer[] encoder;
    private final Norm encoderNorm;
    private final Embeddings tgtEmbed;
    private final DecoderLayer[] decoder;
    private final Norm decoderNorm;
    private final Linear generator;
    private final DecodingBuffers buffers;
    private final PositionScaling scaling;
    private final RelativeBias encoderBias;   // of the encoder's self-attention, or null
    private final RelativeBias decoderBias;   // of the decoder's, or null
    private final RelativeBias crossBias;     // of cross-attention, or null

    IncrementalDecoder(TransformerConfig config, RunOptions options, Embeddings srcEmbed, EncoderLayer[] encoder,
                       Norm encoderNorm, Embeddings tgtEmbed, DecoderLayer[] decoder, Norm decoderNorm, Linear generator,
                       RelativeBias encoderBias, RelativeBias decoderBias, RelativeBias crossBias) {
        this.crossBias = crossBias;
        this.encoderBias = encoderBias;
        this.decoderBias = decoderBias;
        this.config = config;
        this.kernels = options.kernels();
        this.srcEmbed = srcEmbed;
        this.encoder = encoder;
        this.encoderNorm = encoderNorm;
        this.tgtEmbed = tgtEmbed;
        this.decoder = decoder;
        this.decoderNorm = decoderNorm;
        this.generator = generator;
        this.buffers = new DecodingBuffers(config, options.fusedAttentionFrom());
        this.scaling = options.positionScaling();
    }

    /**
     * Encodes {@code b} sources of length {@code s} (B, S) at position ids {@code srcPositions}
     * (B, S; null: 0, 1, ...) and caches, for {@code beams} rows each, their cross-attention keys
     * and values, for at most {@code capacity} target positions from {@code targetStart[source]}
     * on (null: 0); the cache from the idle buffers where {@code pooled}, else of its own, marked
     * with the model's {@code weightsVersion}. Ids, positions and sizes are checked first.
     */
    DecoderCache start(int[] src, int[] srcPositions, int[] targetStart, int b, int s, int beams, int capacity, boolean pooled,
                       long weightsVersion) {
        int limit = scaling.limit(config);
        if (capacity < 1 || capacity > limit) {
            throw new IllegalArgumentException("cannot decode " + capacity + " positions with a position table of "
                    + limit + " (at least 1)" + scaling.hint(config));
        }
        Batch.inputs(b, s, 1, src, new int[b], srcPositions, null).check(config, limit, scaling.hint(config));
        if ((long) b * beams > Integer.MAX_VALUE / Math.max(1, capacity)) {
            throw new IllegalArgumentException(b + " sources x " + beams + " beams x " + capacity + " positions is too many");
        }
        SourceEncoding e = buffers.takeEncoding(b, s);
        try {
            e.load(src, srcPositions, b, s);
            int needed = Math.max(e.positions.bound, targetBound(targetStart, b, capacity));
            ScaledPositions srcScaled = null, tgtScaled = null;
            if (scaling.scales(needed)) {
                // the session's own tables, freed with the last reference to them
                Arena arena = Arena.ofAuto();
                TransformerConfig.Positions p = config.positions();
                RotaryTable rotary = p == TransformerConfig.Positions.ROPE || p == TransformerConfig.Positions.ROPE_CROSS
                        ? scaling.rotary(arena, needed, config.headSize(), config.ropeScale()) : null;
                srcScaled = new ScaledPositions(srcEmbed.scaledTable(arena, needed, scaling), rotary);
                tgtScaled = new ScaledPositions(tgtEmbed.scaledTable(arena, needed, scaling), rotary);
            }
            e.positions.scaled = srcScaled;
            if (encoderBias != null) {
                e.mask = e.mask.withBias(new PositionBias(encoderBias.sessionTable(needed), s, e.positions.ids, e.positions.ids, s));
            }
            srcEmbed.embed(kernels, src, e);
            for (EncoderLayer layer : encoder) {
                layer.apply(kernels, e);
            }
            encoderNorm.forward(kernels, e.x, e.memory, e.rows, e.mean, e.rstd);
            int rows = b * beams;
            DecoderCache cache = pooled ? buffers.takeCache(rows, capacity, s, weightsVersion)
                    : new DecoderCache(config, rows, capacity, s, weightsVersion, new CountingArena());
            cache.positions.scaled = tgtScaled;
            try {
                FloatTensor keys = e.k, values = e.v; // (B*S, C), free once the encoder has run
                for (int i = 0; i < decoder.length; i++) {
                    decoder[i].projectMemory(kernels, e.memory, b * s, e.positions, keys, values);
                    DecoderCache.gatherRows(keys, cache.layers[i].crossKeys, rows, beams, s, config.hiddenSize());
                    DecoderCache.gatherRows(values, cache.layers[i].crossValues, rows, beams, s, config.hiddenSize());
                }
                for (int r = 0; r < rows; r++) {
                    cache.targetStart[r] = targetStart == null ? 0 : targetStart[r / beams];
                    for (int j = 0; j < s; j++) {
                        cache.srcMask.set((long) r * s + j, src[r / beams * s + j] == config.padId() ? Float.NEGATIVE_INFINITY : 0f);
                    }
                }
                cache.useSelfBias(decoderBias == null ? null : decoderBias.sessionTable(needed));
                cache.useCrossBias(crossBias == null ? null : crossBias.sessionTable(needed), e.positions.ids, beams);
                return cache;
            } catch (RuntimeException | Error ex) {
                release(cache, pooled);
                throw ex;
            }
        } finally {
            e.positions.scaled = null;
            buffers.give(e);
        }
    }

    /** One past the largest target position id of {@code capacity} steps from {@code targetStart} (null: 0). */
    private static int targetBound(int[] targetStart, int b, int capacity) {
        int start = 0;
        for (int i = 0; targetStart != null && i < b; i++) {
            start = Math.max(start, targetStart[i]);
        }
        return start + capacity;
    }

    /** Gives a cache of {@link #start} back to the idle buffers where it came from them, else frees it. */
    void release(DecoderCache cache, boolean pooled) {
        if (pooled) {
            buffers.give(cache);
        } else {
            cache.close();
        }
    }

    /**
     * One step: feeds {@code tokens} (one per row) at step {@code pos}; returns log-probabilities
     * (R, V). Refuses a cache made before the weights changed ({@code weightsVersion}, the model's
     * now), a position outside the cache and a token outside the vocabulary.
     */
    FloatTensor step(DecoderCache cache, int[] tokens, int pos, long weightsVersion) {
        if (cache.weightsVersion != weightsVersion) {
            throw new IllegalStateException("the model's weights changed since this decoding session started (a training"
                    + " step or a checkpoint loaded into it): its cached keys and values are of the old weights; start a new session");
        }
        if (pos < 0 || pos >= cache.capacity) {
            throw new IllegalArgumentException("position " + pos + " outside the cache's [0, " + cache.capacity + ")");
        }
        for (int r = 0; r < cache.rows; r++) {
            if (tokens[r] < 0 || tokens[r] >= config.tgtVocabSize()) {
                throw new IllegalArgumentException("target token id " + tokens[r] + " in row " + r
                        + " is outside the vocabulary [0, " + config.tgtVocabSize() + ")");
            }
        }
        int rows = cache.rows;
        cache.feed(tokens, pos);
        tgtEmbed.step(kernels, tokens, rows, cache.positions, cache.sublayer, cache.x, cache.mean, cache.rstd);
        for (int i = 0; i < decoder.length; i++) {
            decoder[i].step(kernels, cache.x, rows, cache.layers[i], pos, cache.crossMask, cache);
        }
        decoderNorm.forward(kernels, cache.x, cache.normed, rows, cache.mean, cache.rstd);
        generator.forward(kernels, cache.normed, cache.logits, rows);
        kernels.loss().logSoftmax(cache.logits, cache.logProbs, rows, config.tgtVocabSize());
        return cache.logProbs;
    }

    /** Bytes of the idle decoding buffers. */
    long idleBytes() {
        return buffers.idleBytes();
    }

    /** Bytes ever allocated for decoding buffers from the idle ones. */
    long allocatedBytes() {
        return buffers.allocatedBytes();
    }

    /** Frees the idle buffers; caches given back later are freed then. */
    @Override
    public void close() {
        buffers.close();
    }
}
