package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.PositionBias;
import dev.panamaformer.kernels.RowMask;
import java.util.Map;

/**
 * One training pass's memory for one (batch, source length, target length) shape: every layer's
 * activations saved for the backward pass, the gradients flowing between layers, masks, logits and
 * log-probabilities, all in one {@link Workspace}. The layers themselves hold weights only, so
 * the model's inference path ({@link IncrementalDecoder}) never touches these buffers, and a model
 * that only decodes never allocates them.
 *
 * <p>Not thread-safe: {@link Transformer} calls it under its exclusive guard.
 */
final class ForwardPass implements AutoCloseable {
    private final Transformer model;
    private final Workspace ws;
    final int batch;
    final int srcLength;
    final int tgtLength;
    private final FloatTensor srcMask;   // (B, S) 0 or -inf: source padding, as keys
    private final FloatTensor tgtMask;   // (B, T) 0 or -inf: target padding, as keys
    private final RowPositions srcPositions; // (B*S) the batch's source position ids
    private final RowPositions tgtPositions; // (B*T) its target position ids
    private final Embeddings.Activations srcEmbed;
    private final EncoderLayer.Activations[] encoder;
    private final Norm.Statistics encoderNorm;
    private final FloatTensor memory;    // (B*S, C) encoder output after its final LayerNorm
    private final Embeddings.Activations tgtEmbed;
    private final DecoderLayer.Activations[] decoder;
    private final Norm.Statistics decoderNorm;
    private final FloatTensor decoded;   // (B*T, C) decoder output after its final LayerNorm
    private final FloatTensor logits;    // (B*T, V)
    private final FloatTensor logProbs;  // (B*T, V) the generator's output
    private final FloatTensor dLogits, dDecoded, dMemory;
    private final FloatTensor[] dEncoder; // N + 1 of (B*S, C): gradients of the encoder stream
    private final FloatTensor[] dDecoder; // N + 1 of (B*T, C)
    private final RowMask encoderMask;    // source padding, as the encoder's self-attention sees it
    private final RowMask causalMask;     // target padding and causality, as the decoder's self-attention
    private final RowMask crossMask;      // source padding, as cross-attention sees it
    private final FloatTensor dEncoderBias, dDecoderBias, dCrossBias; // (h, 2 * span + 1) gradients of learned bias tables, or null
    private final FloatTensor encoderT5, decoderT5, crossT5; // T5: this pass's dense tables, filled by each forward; else null
    private FloatTensor encoderBiasTable, decoderBiasTable; // the bias tables the masks in use carry, or null
    private final MultiHeadAttention.Activations[] encoderAttention;     // each encoder layer's self-attention
    private final MultiHeadAttention.Activations[] decoderSelfAttention; // each decoder layer's
    private Batch last;                   // the batch of the last forward, for backward
    private boolean lastTraining;
    private long lastSeed;
    private boolean closed;

    ForwardPass(Transformer model, int b, int s, int t) {
        this.model = model;
        TransformerConfig config = model.config();
        this.ws = new Workspace(model.options().fusedAttentionFrom());
        this.batch = b;
        this.srcLength = s;
        this.tgtLength = t;
        try {
            int c = config.hiddenSize(), h = config.numHeads(), v = config.tgtVocabSize();
            srcMask = ws.activation("src_mask", b, s);
            tgtMask = ws.activation("tgt_mask", b, t);
            encoderMask = RowMask.additive(srcMask, h * s);
            crossMask = RowMask.additive(srcMask, h * t);
            causalMask = RowMask.additive(tgtMask, h * t).andCausal(t);
            dEncoderBias = biasGradient(model.encoderBias);
            dDecoderBias = biasGradient(model.decoderBias);
            dCrossBias = biasGradient(model.crossBias);
            encoderT5 = dEncoderBias == null ? null : ws.activation("encoder.relative_bias_table", h, RelativeBias.t5Width());
            decoderT5 = dDecoderBias == null ? null : ws.activation("decoder.relative_bias_table", h, RelativeBias.t5Width());
            crossT5 = dCrossBias == null ? null : ws.activation("decoder.cross.relative_bias_table", h, RelativeBias.t5Width());
            srcPositions = new RowPositions(b * s);
            tgtPositions = new RowPositions(b * t);
            srcEmbed = model.srcEmbed.activations(ws, "encoder.embed", b, s, srcPositions);
            encoder = new EncoderLayer.Activations[model.encoder.length];
            dEncoder = new FloatTensor[encoder.length + 1];
            dEncoder[0] = ws.gradient(b * s, c);
            for (int i = 0; i < encoder.length; i++) {
                encoder[i] = model.encoder[i].activations(ws, "encoder.layers." + i, b, s, encoderMask, srcPositions);
                dEncoder[i + 1] = ws.gradient(b * s, c);
            }
            encoderNorm = Norm.statistics(ws, "encoder.norm", b * s);
            memory = ws.activation("memory", b * s, c);
            dMemory = ws.gradient(b * s, c);
            tgtEmbed = model.tgtEmbed.activations(ws, "decoder.embed", b, t, tgtPositions);
            decoder = new DecoderLayer.Activations[model.decoder.length];
            dDecoder = new FloatTensor[decoder.length + 1];
            dDecoder[0] = ws.gradient(b * t, c);
            for (int i = 0; i < decoder.length; i++) {
                decoder[i] = model.decoder[i].activations(ws, "decoder.layers." + i, b, t, s, causalMask, crossMask, tgtPositions,
                        srcPositions);
                dDecoder[i + 1] = ws.gradient(b * t, c);
            }
            encoderAttention = new MultiHeadAttention.Activations[encoder.length];
            for (int i = 0; i < encoder.length; i++) {
                encoderAttention[i] = encoder[i].attention;
            }
            decoderSelfAttention = new MultiHeadAttention.Activations[decoder.length];
            MultiHeadAttention.Activations[] cross = new MultiHeadAttention.Activations[decoder.length];
            for (int i = 0; i < decoder.length; i++) {
                decoderSelfAttention[i] = decoder[i].self;
                cross[i] = decoder[i].cross;
            }
            if (model.crossBias != null) {
                // queries at the target ids, keys at the source ids; the table (T5's, this pass's own, or
                // the window's, one for every id) does not change, so given once
                giveBias(crossMask, crossT5 != null ? crossT5 : model.crossBias.table(0), t, tgtPositions, srcPositions, s,
                        dCrossBias, cross);
            }
            decoderNorm = Norm.statistics(ws, "decoder.norm", b * t);
            decoded = ws.activation("decoded", b * t, c);
            dDecoded = ws.gradient(b * t, c);
            logits = ws.activation("logits", b * t, v);
            logProbs = ws.activation("log_probs", b * t, v);
            dLogits = ws.gradient(b * t, v);
        } catch (RuntimeException | Error e) {
            ws.close();
            throw e;
        }
    }

    /** The gradient of a learned bias's dense table, zeroed with the others before each backward pass; null for none or a fixed one. */
    private FloatTensor biasGradient(RelativeBias bias) {
        return bias == null || !bias.learned() ? null : ws.gradient(bias.heads(), RelativeBias.t5Width());
    }

    /**
     * Gives the self-attention of each layer its stack's position bias, with a table that covers
     * this batch's ids: made again only when the table is not the one in use (ALiBi's grows; a
     * T5 table is this pass's own).
     */
    private void useBiases() {
        if (model.encoderBias != null) {
            FloatTensor table = encoderT5 != null ? encoderT5 : model.encoderBias.table(srcPositions.bound);
            if (table != encoderBiasTable) {
                encoderBiasTable = table;
                giveBias(encoderMask, table, srcLength, srcPositions, srcPositions, srcLength, dEncoderBias, encoderAttention);
            }
        }
        if (model.decoderBias != null) {
            FloatTensor table = decoderT5 != null ? decoderT5 : model.decoderBias.table(tgtPositions.bound);
            if (table != decoderBiasTable) {
                decoderBiasTable = table;
                giveBias(causalMask, table, tgtLength, tgtPositions, tgtPositions, tgtLength, dDecoderBias, decoderSelfAttention);
            }
        }
    }

    /**
     * {@code base} with a bias over {@code table} (queries of {@code queries} per sequence at the
     * ids of {@code q}, keys {@code keys} apart at those of {@code k}; the arrays are refilled by
     * each forward pass, read at each call) for each of {@code targets}, whose backward passes add
     * the table's gradient to {@code dTable} (null: a fixed bias).
     */
    private static void giveBias(RowMask base, FloatTensor table, int queries, RowPositions q, RowPositions k, int keys,
                                 FloatTensor dTable, MultiHeadAttention.Activations[] targets) {
        RowMask m = base.withBias(new PositionBias(table, queries, q.ids, k.ids, keys));
        for (MultiHeadAttention.Activations a : targets) {
            a.useBias(m, dTable);
        }
    }

    /** Open and of this shape. */
    boolean fits(int b, int s, int t) {
        return !closed && b == batch && s == srcLength && t == tgtLength;
    }

    /** Bytes of the buffers; 0 once closed. */
    long bytes() {
        return closed ? 0 : ws.bytes();
    }

    private static void padMask(int[] ids, int pad, FloatTensor mask) {
        for (int i = 0; i < ids.length; i++) {
            mask.set(i, ids[i] == pad ? Float.NEGATIVE_INFINITY : 0f);
        }
    }

    /** See {@link Transformer#forward}; the batch is checked and of this pass's shape. */
    double forward(Batch b, boolean training, long seed) {
        Kernels kernels = model.kernels();
        TransformerConfig config = model.config();
        last = b;
        lastTraining = training;
        lastSeed = seed;
        padMask(b.src(), config.padId(), srcMask);
        padMask(b.tgtIn(), config.padId(), tgtMask);
        srcPositions.set(b.srcPositions(), batch, srcLength);
        tgtPositions.set(b.tgtPositions(), batch, tgtLength);
        if (encoderT5 != null) { // T5's dense tables from the buckets as they are now
            model.encoderBias.fill(encoderT5);
            model.decoderBias.fill(decoderT5);
        }
        if (crossT5 != null) {
            model.crossBias.fill(crossT5);
        }
        useBiases();
        int ns = batch * srcLength, nt = batch * tgtLength;
        model.srcEmbed.forward(kernels, srcEmbed, b.src(), training, seed);
        FloatTensor x = srcEmbed.out;
        for (int i = 0; i < encoder.length; i++) {
            model.encoder[i].forward(kernels, encoder[i], x, training, seed);
            x = encoder[i].out;
        }
        model.encoderNorm.forward(kernels, x, memory, ns, encoderNorm);
        model.tgtEmbed.forward(kernels, tgtEmbed, b.tgtIn(), training, seed);
        FloatTensor y = tgtEmbed.out;
        for (int i = 0; i < decoder.length; i++) {
            model.decoder[i].forward(kernels, decoder[i], y, memory, training, seed);
            y = decoder[i].out;
        }
        model.decoderNorm.forward(kernels, y, decoded, nt, decoderNorm);
        model.generator.forward(kernels, decoded, logits, nt);
        if (!b.hasTargets()) { // inputs alone: the log-probabilities, no loss
            kernels.loss().logSoftmax(logits, logProbs, nt, config.tgtVocabSize());
            return Double.NaN;
        }
        double nll = kernels.loss().nllForward(logits, logProbs, b.tgtOut(), config.padId(), nt, config.tgtVocabSize());
        return nll / batch;
    }

    /** See {@link Transformer#backward}. */
    void backward() {
        if (last == null) {
            throw new IllegalStateException("backward needs a forward pass first");
        }
        if (!last.hasTargets()) {
            throw new IllegalStateException("backward needs a forward pass of a batch with targets (tgtOut); the last one had inputs alone");
        }
        Kernels kernels = model.kernels();
        TransformerConfig config = model.config();
        boolean training = lastTraining;
        long seed = lastSeed;
        ws.zeroGradients();
        int ns = batch * srcLength, nt = batch * tgtLength;
        kernels.loss().nllBackward(logProbs, last.tgtOut(), config.padId(), 1f / batch, dLogits, nt, config.tgtVocabSize());
        model.generator.backward(kernels, decoded, dLogits, dDecoded, nt, true);
        model.decoderNorm.backward(kernels, decoder.length == 0 ? tgtEmbed.out : decoder[decoder.length - 1].out, dDecoded,
                dDecoder[decoder.length], nt, decoderNorm);
        for (int i = decoder.length - 1; i >= 0; i--) {
            FloatTensor in = i == 0 ? tgtEmbed.out : decoder[i - 1].out;
            model.decoder[i].backward(kernels, decoder[i], in, memory, dDecoder[i + 1], dDecoder[i], dMemory,
                    i == decoder.length - 1, training, seed);
        }
        model.tgtEmbed.backward(kernels, tgtEmbed, dDecoder[0], training, seed);
        model.encoderNorm.backward(kernels, encoder.length == 0 ? srcEmbed.out : encoder[encoder.length - 1].out, dMemory,
                dEncoder[encoder.length], ns, encoderNorm);
        for (int i = encoder.length - 1; i >= 0; i--) {
            FloatTensor in = i == 0 ? srcEmbed.out : encoder[i - 1].out;
            model.encoder[i].backward(kernels, encoder[i], in, dEncoder[i + 1], dEncoder[i], training, seed);
        }
        model.srcEmbed.backward(kernels, srcEmbed, dEncoder[0], training, seed);
        if (dEncoderBias != null) {
            model.encoderBias.backward(dEncoderBias);
        }
        if (dDecoderBias != null) {
            model.decoderBias.backward(dDecoderBias);
        }
        if (dCrossBias != null) {
            model.crossBias.backward(dCrossBias);
        }
    }

    /** Whether a forward pass ran in these buffers, and they are still open. */
    boolean ran() {
        return !closed && last != null;
    }

    FloatTensor logProbs() {
        return logProbs;
    }

    FloatTensor logits() {
        return logits;
    }

    /** See {@link Transformer#attention}; the layer is checked. */
    FloatTensor attention(Transformer.Attention kind, int layer) {
        Kernels kernels = model.kernels();
        return switch (kind) {
            case ENCODER_SELF -> model.encoder[layer].selfAttention.probabilities(kernels, encoder[layer].attention);
            case DECODER_SELF -> model.decoder[layer].selfAttention.probabilities(kernels, decoder[layer].self);
            case CROSS -> model.decoder[layer].crossAttention.probabilities(kernels, decoder[layer].cross);
        };
    }

    /** See {@link Transformer#firstNonFiniteActivation}. */
    String firstNonFiniteActivation() {
        Kernels kernels = model.kernels();
        for (Map.Entry<String, FloatTensor> e : ws.activations().entrySet()) {
            if (e.getKey().endsWith("_mask")) {
                continue; // -inf is how masks say "not this key"
            }
            if (!Double.isFinite(kernels.elementwise().sumOfSquares(e.getValue(), e.getValue().size()))) {
                return e.getKey();
            }
        }
        return null;
    }

    /** Frees the buffers; again, nothing. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ws.close();
        }
    }
}
