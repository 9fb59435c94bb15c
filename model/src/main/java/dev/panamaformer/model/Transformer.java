package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.RotaryTable;

/**
 * The Pre-LN encoder-decoder Transformer: embeddings, N encoder layers and a final LayerNorm;
 * embeddings, N decoder layers and a final LayerNorm; a linear generator with log-softmax.
 *
 * <p>The model owns its off-heap memory (parameters, the gradients of its own {@link #backward()}
 * once asked for without an open {@link Trainer}, and the {@link ForwardPass} buffers of the last
 * batch shape) and releases it on {@link #close()}; a Trainer holds the gradients of its steps itself.
 * Its layers hold weights only: a forward pass's buffers are allocated on the first
 * {@link #forward} of a (batch, source length, target length) shape and reused by every step of
 * that shape; decoding ({@link #startDecoding}, {@link Decoding}) never allocates them.
 *
 * <p>Thread safety: {@link #forward}, {@link #backward}, a {@link Trainer}'s steps and the other
 * calls that read the last forward pass serve one thread at a time. Decoding sessions
 * ({@link #startDecoding}) keep buffers of their own and only read the weights, so any number
 * may run on as many threads at once, though not while one of the former is in progress, and a
 * session started before the weights changed (a training step, {@link Checkpoint#loadInto})
 * refuses its next step. An overlap the model cannot serve throws an IllegalStateException that
 * says so; it never computes from another thread's buffers or from weights half updated.
 */
public final class Transformer implements AutoCloseable {
    /** Attention probabilities of which kind of attention. */
    public enum Attention { ENCODER_SELF, DECODER_SELF, CROSS }

    private final TransformerConfig config;
    private final RunOptions options;
    private final Kernels kernels;
    private final CountingArena arena = new CountingArena();
    private final Parameters params;
    // the layers hold weights only; a forward pass's buffers are a ForwardPass, a decoding session's its cache
    final Embeddings srcEmbed;
    final EncoderLayer[] encoder;
    final Norm encoderNorm;
    final Embeddings tgtEmbed;
    final DecoderLayer[] decoder;
    final Norm decoderNorm;
    final Linear generator;
    /** The position bias of the encoder's and of the decoder's self-attention (T5, ALiBi, an attention window), or null. */
    final RelativeBias encoderBias;
    final RelativeBias decoderBias;
    /** The position bias of cross-attention (T5_CROSS, or an attention window), or null. */
    final RelativeBias crossBias;
    /** The inference path over the layers above, with the idle buffers of {@link Decoding}'s loops. */
    private final IncrementalDecoder incremental;

    /** The buffers of the last forward's shape, made on the first forward: a model that only decodes has none. */
    private ForwardPass pass;
    private boolean closed;
    /**
     * Forward, backward and training rewrite the model's buffers or weights: one thread at a time;
     * decoding sessions only read the weights: any number at once, but not beside those (a check,
     * not a lock).
     */
    final UseGuard guard = new UseGuard();
    /**
     * Counts changes of the weights through this library (training steps, checkpoints loaded into
     * the model), so that a decoding session started before one refuses to go on. Writes into
     * {@link Parameters} tensors by hand are not counted.
     */
    private final java.util.concurrent.atomic.AtomicLong weightsVersion = new java.util.concurrent.atomic.AtomicLong();

    /** A model with freshly initialized parameters (Xavier uniform, zero biases, unit LayerNorm gains). */
    public Transformer(TransformerConfig config, long seed) {
        this(config, seed, RunOptions.defaults());
    }

    /** A fresh model that runs on {@code kernels}, with the other {@link RunOptions} at their defaults. */
    public Transformer(TransformerConfig config, long seed, Kernels kernels) {
        this(config, seed, RunOptions.defaults().withKernels(kernels));
    }

    /** A fresh model that runs with {@code options}. */
    public Transformer(TransformerConfig config, long seed, RunOptions options) {
        this(config, seed, options, Long.MAX_VALUE);
    }

    /**
     * A model that may hold at most {@code maxParameterFloats} parameter values: building one whose
     * config asks for more stops with an {@link IllegalArgumentException} before that much is
     * allocated (a checkpoint's config is bounded so by the tensors its file holds).
     */
    Transformer(TransformerConfig config, long seed, RunOptions options, long maxParameterFloats) {
        if (config == null || options == null) {
            throw new IllegalArgumentException("config and options must not be null");
        }
        this.params = new Parameters(arena, maxParameterFloats);
        this.config = config;
        this.options = options;
        this.kernels = options.kernels();
        try {
            options.positionScaling().checkFor(config);
            // RoPE's angles, computed for the positions in use (as the sinusoids are)
            GrowingTable<RotaryTable> rotary = config.positions() == TransformerConfig.Positions.ROPE
                    || config.positions() == TransformerConfig.Positions.ROPE_CROSS
                    ? new GrowingTable<>(config.maxPositions(),
                            rows -> RotaryTable.of(arena, rows, config.headSize(), RotaryTable.BASE, config.ropeScale()),
                            RotaryTable::positions)
                    : null;
            long site = 0;
            encoderBias = RelativeBias.forEncoder(params, arena, config);
            decoderBias = RelativeBias.forDecoder(params, arena, config);
            crossBias = RelativeBias.forCrossAttention(params, arena, config);
            srcEmbed = new Embeddings(params, arena, "encoder.embed", config, config.srcVocabSize(), site++);
            encoder = new EncoderLayer[config.numLayers()];
            for (int i = 0; i < encoder.length; i++) {
                encoder[i] = new EncoderLayer(params, "encoder.layers." + i, config, site, rotary);
                site += EncoderLayer.DROPOUT_SITES;
            }
            encoderNorm = new Norm(params, "encoder.norm", config.hiddenSize(), config.layerNormEps());
            tgtEmbed = new Embeddings(params, arena, "decoder.embed", config, config.tgtVocabSize(), site++);
            decoder = new DecoderLayer[config.numLayers()];
            for (int i = 0; i < decoder.length; i++) {
                decoder[i] = new DecoderLayer(params, "decoder.layers." + i, config, site, rotary,
                        config.positions() == TransformerConfig.Positions.ROPE_CROSS ? rotary : null);
                site += DecoderLayer.DROPOUT_SITES;
            }
            decoderNorm = new Norm(params, "decoder.norm", config.hiddenSize(), config.layerNormEps());
            generator = new Linear(params, "generator", config.hiddenSize(), config.tgtVocabSize());
            incremental = new IncrementalDecoder(config, options, srcEmbed, encoder, encoderNorm, tgtEmbed, decoder, decoderNorm,
                    generator, encoderBias, decoderBias, crossBias);
            params.allocate();
            params.initialize(seed);
        } catch (RuntimeException | Error e) {
            arena.close(); // nothing the caller could close was returned
            throw e;
        }
    }

    public TransformerConfig config() {
        return config;
    }

    /** Marks the weights changed; called under the exclusive guard by whatever changed them. */
    void weightsChanged() {
        weightsVersion.incrementAndGet();
    }

    /** How this model runs: its kernels and when attention takes the fused kernel. */
    public RunOptions options() {
        return options;
    }

    /**
     * The most positions a decoding session may use: the config's {@code max_position_embeddings},
     * or more with {@link RunOptions#positionScaling()}. Training and {@link #forward} stay within the former.
     */
    public int positionLimit() {
        return options.positionScaling().limit(config);
    }

    public Parameters parameters() {
        checkOpen();
        return params;
    }

    Kernels kernels() {
        return kernels;
    }

    /** Bytes of activation and gradient buffers for the current shape. */
    public long workspaceBytes() {
        ForwardPass p = pass;
        return p == null ? 0 : p.bytes();
    }

    /**
     * Bytes of off-heap memory the model holds: its parameters, tables, the gradients of its own
     * {@link #backward()} once asked for, and the buffers of {@link #forward}
     * ({@link #workspaceBytes()}). A model loaded and used only for decoding holds its parameters
     * and tables alone; decoding sessions and a {@link Trainer} ({@link Trainer#memoryBytes()})
     * hold their own.
     */
    public long memoryBytes() {
        return arena.bytes() + params.ownGradientBytes() + workspaceBytes();
    }

    /**
     * Bytes of the idle decoding buffers the model keeps for its next {@link Decoding} call (the
     * encoder's buffers and the key/value caches of the largest shapes decoded so far, one set per
     * thread that decoded at once), beside {@link #memoryBytes()}; freed by {@link #close()}.
     */
    public long decodingBufferBytes() {
        return incremental.idleBytes();
    }

    /** Bytes ever allocated for decoding buffers from the model's idle ones (the caches of {@link #startDecoding}'s sessions aside). */
    long decodingBytesAllocated() {
        return incremental.allocatedBytes();
    }

    /**
     * Runs the model on a batch and returns the loss: the negative log-likelihood of
     * {@code tgtOut}, summed over non-padding target positions and divided by the batch size;
     * NaN for a batch of inputs alone ({@link Batch#inputs}), whose {@link #logProbs()} are then
     * what it is for. With {@code training}, dropout is active, seeded by {@code seed}, and
     * {@link #backward()} may follow (a batch with targets).
     */
    public double forward(Batch b, boolean training, long seed) {
        guard.enterExclusive("forward");
        try {
            pass = passFor(pass, b);
            return pass.forward(b, training, seed);
        } finally {
            guard.exitExclusive();
        }
    }

    /**
     * The buffers for a forward pass over {@code b} (checked against the config): {@code current}
     * if it has the batch's shape, else a new pass, {@code current} closed. The caller holds the
     * exclusive guard and keeps the result: the model's own forward, or a {@link Trainer}'s. If
     * the new pass cannot be made, {@code current} is closed all the same and fits nothing.
     */
    ForwardPass passFor(ForwardPass current, Batch b) {
        checkOpen();
        b.check(config);
        if (current != null && current.fits(b.size(), b.srcLength(), b.tgtLength())) {
            return current;
        }
        if (current != null) {
            current.close();
        }
        return new ForwardPass(this, b.size(), b.srcLength(), b.tgtLength());
    }

    /**
     * Adds the gradient of the last forward's loss to every parameter's gradient (an open
     * {@link Trainer}'s, else the model's own); refuses a forward of inputs alone.
     */
    public void backward() {
        guard.enterExclusive("backward");
        try {
            checkOpen();
            if (pass == null || !pass.ran()) {
                throw new IllegalStateException("backward needs a forward pass first");
            }
            pass.backward();
        } finally {
            guard.exitExclusive();
        }
    }

    /**
     * Starts decoding {@code sources} (token ids, of any lengths, padded here to the longest with
     * the pad id), each with {@code beams} rows (hypotheses), for at most {@code capacity} target
     * positions. The sources are encoded now, in buffers of the session's own, so sessions may
     * start and run on many threads at once (see {@link DecodingSession}). The session's cache
     * is its own and freed by its {@code close()}: a tensor it returned fails after that rather
     * than show another session's numbers.
     */
    public DecodingSession startDecoding(int[][] sources, int beams, int capacity) {
        return start(sources, PositionIds.SEQUENTIAL, beams, capacity, false);
    }

    /**
     * {@link #startDecoding(int[][], int, int)} at explicit position ids, for a model trained with
     * them (see {@link Batch#srcPositions()}).
     */
    public DecodingSession startDecoding(int[][] sources, PositionIds positions, int beams, int capacity) {
        return start(sources, positions, beams, capacity, false);
    }

    /**
     * {@link #startDecoding} for {@link Decoding}'s own loops, which never hand a session's
     * tensors out: the cache comes from the model's idle buffers and goes back to them on
     * {@code close()}, so decoding again allocates nothing. Its log-probabilities may have more
     * rows than the session (the cache's capacity): read rows [0, rows) only.
     */
    DecodingSession startPooledDecoding(int[][] sources, PositionIds positions, int beams, int capacity) {
        return start(sources, positions, beams, capacity, true);
    }

    private DecodingSession start(int[][] sources, PositionIds positions, int beams, int capacity, boolean pooled) {
        if (beams < 1) {
            throw new IllegalArgumentException("beams must be at least 1, got " + beams);
        }
        if (positions == null) {
            throw new IllegalArgumentException("positions must not be null (PositionIds.SEQUENTIAL for 0, 1, 2, ...)");
        }
        int s = Decoding.longest(sources);
        int[] srcPositions = positions.padded(sources, s);
        positions.checkTarget(sources.length, capacity, positionLimit());
        DecoderCache cache = startCache(Decoding.pad(sources, config.padId(), s), srcPositions, positions.targetStart(),
                sources.length, s, beams, capacity, pooled);
        Runnable release = () -> incremental.release(cache, pooled);
        return new DecodingSession(this, cache, sources.length, beams, release);
    }

    /**
     * Encodes {@code b} sources of length {@code s} (B, S) and caches, for {@code beams} rows
     * each, their cross-attention keys and values, for at most {@code capacity} target positions;
     * the cache from the idle buffers where {@code pooled}, else of its own.
     */
    DecoderCache startCache(int[] src, int[] srcPositions, int[] targetStart, int b, int s, int beams, int capacity,
                            boolean pooled) {
        guard.enterShared("startDecoding");
        try {
            checkOpen();
            return incremental.start(src, srcPositions, targetStart, b, s, beams, capacity, pooled, weightsVersion.get());
        } finally {
            guard.exitShared();
        }
    }

    /** One incremental step: feeds {@code tokens} (one per row) at position {@code pos}; returns log-probabilities (R, V). */
    FloatTensor decodeStep(DecoderCache cache, int[] tokens, int pos) {
        guard.enterShared("decodeStep");
        try {
            checkOpen();
            return incremental.step(cache, tokens, pos, weightsVersion.get());
        } finally {
            guard.exitShared();
        }
    }

    /** The generator's log-probabilities (B*T, V) of the model's last {@link #forward} (a {@link Trainer}'s steps keep their own: {@link Trainer#logProbs()}). */
    public FloatTensor logProbs() {
        checkForward();
        return pass.logProbs();
    }

    /** The logits (B*T, V) of the last forward pass, before log-softmax. */
    public FloatTensor logits() {
        checkForward();
        return pass.logits();
    }

    /** Attention probabilities (B, h, Tq, Tk) of one layer's attention in the last forward pass. */
    public FloatTensor attention(Attention kind, int layer) {
        guard.enterExclusive("attention");
        try {
            checkForward();
            if (layer < 0 || layer >= config.numLayers()) {
                throw new IllegalArgumentException("layer " + layer + " outside [0, " + config.numLayers() + ")");
            }
            return pass.attention(kind, layer);
        } finally {
            guard.exitExclusive();
        }
    }

    /** The name of the first activation of the last forward pass holding a NaN or infinity, or null. */
    public String firstNonFiniteActivation() {
        guard.enterExclusive("firstNonFiniteActivation");
        try {
            checkForward();
            return pass.firstNonFiniteActivation();
        } finally {
            guard.exitExclusive();
        }
    }

    private void checkForward() {
        checkOpen();
        if (pass == null || !pass.ran()) {
            throw new IllegalStateException("no forward pass yet");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
    }

    /**
     * Frees the model's memory. Waits for decoding steps and training calls in progress on other
     * threads to end (up to a minute); decoding sessions still open fail on their next step.
     */
    @Override
    public void close() {
        guard.enterExclusiveWaiting("close", java.time.Duration.ofMinutes(1));
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (pass != null) {
                pass.close();
            }
            incremental.close();
            params.close();
            arena.close();
        } finally {
            guard.exitExclusive();
        }
    }
}
