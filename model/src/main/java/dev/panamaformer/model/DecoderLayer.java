package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.RotaryTable;
import dev.panamaformer.kernels.RowMask;

/**
 * Pre-LN: masked self-attention, cross-attention over the encoder's output (memory), then the
 * feed-forward, each as {@code x + dropout(sublayer(LN(x)))}. The layer holds weights; a
 * training pass's buffers are its {@link Activations}, a decoding session's its {@link DecoderCache}.
 */
final class DecoderLayer {
    private final Norm norm1;
    final MultiHeadAttention selfAttention;
    private final DropoutSite dropout1;
    private final Norm norm2;
    final MultiHeadAttention crossAttention;
    private final DropoutSite dropout2;
    private final Norm norm3;
    private final FeedForward ffn;
    private final DropoutSite dropout3;
    private final int width;

    static final int DROPOUT_SITES = 6;

    /** {@code rotary}, {@code crossRotary}: the RoPE angles of self- and of cross-attention, or null (no rotation). */
    DecoderLayer(Parameters params, String name, TransformerConfig config, long sites, GrowingTable<RotaryTable> rotary,
                 GrowingTable<RotaryTable> crossRotary) {
        this.width = config.hiddenSize();
        float eps = config.layerNormEps();
        this.norm1 = new Norm(params, name + ".norm1", width, eps);
        this.selfAttention = new MultiHeadAttention(params, name + ".self_attn", config, sites, rotary);
        this.dropout1 = new DropoutSite(config.dropout(), sites + 1);
        this.norm2 = new Norm(params, name + ".norm2", width, eps);
        this.crossAttention = new MultiHeadAttention(params, name + ".cross_attn", config, sites + 2, crossRotary);
        this.dropout2 = new DropoutSite(config.dropout(), sites + 3);
        this.norm3 = new Norm(params, name + ".norm3", width, eps);
        this.ffn = new FeedForward(params, name + ".ffn", config, sites + 4);
        this.dropout3 = new DropoutSite(config.dropout(), sites + 5);
    }

    /** A training pass's buffers of this layer, for one shape. */
    final class Activations {
        final int rows;
        final Norm.Statistics norm1Stats, norm2Stats, norm3Stats;
        final MultiHeadAttention.Activations self, cross;
        final FeedForward.Activations ffnActs;
        final FloatTensor n1;       // (N, C) LN1 output, self-attention input
        final FloatTensor selfOut;  // (N, C)
        final FloatTensor x1;       // (N, C) after the first residual
        final FloatTensor n2;       // (N, C) LN2 output, cross-attention query input
        final FloatTensor crossOut; // (N, C)
        final FloatTensor x2;       // (N, C) after the second residual
        final FloatTensor n3;       // (N, C) LN3 output, FFN input
        final FloatTensor ffnOut;   // (N, C)
        final FloatTensor scratch;  // (N, C) a sublayer output after dropout
        final FloatTensor out;      // (N, C)
        final FloatTensor dN1, dSelf, dX1, dN2, dCross, dX2, dN3, dFfn; // (N, C) each

        private Activations(Workspace ws, String name, int batch, int tgtLength, int srcLength, RowMask selfMask,
                            RowMask crossMask, RowPositions positions, RowPositions srcPositions) {
            rows = batch * tgtLength;
            norm1Stats = Norm.statistics(ws, name + ".norm1", rows);
            self = selfAttention.activations(ws, name + ".self_attn", batch, tgtLength, tgtLength, selfMask, positions, positions);
            norm2Stats = Norm.statistics(ws, name + ".norm2", rows);
            cross = crossAttention.activations(ws, name + ".cross_attn", batch, tgtLength, srcLength, crossMask, positions,
                    srcPositions);
            norm3Stats = Norm.statistics(ws, name + ".norm3", rows);
            ffnActs = ffn.activations(ws, name + ".ffn", rows);
            n1 = ws.activation(name + ".n1", rows, width);
            selfOut = ws.activation(name + ".self_out", rows, width);
            x1 = ws.activation(name + ".x1", rows, width);
            n2 = ws.activation(name + ".n2", rows, width);
            crossOut = ws.activation(name + ".cross_out", rows, width);
            x2 = ws.activation(name + ".x2", rows, width);
            n3 = ws.activation(name + ".n3", rows, width);
            ffnOut = ws.activation(name + ".ffn_out", rows, width);
            scratch = ws.activation(name + ".scratch", rows, width);
            out = ws.activation(name + ".out", rows, width);
            dN1 = ws.gradient(rows, width);
            dSelf = ws.gradient(rows, width);
            dX1 = ws.gradient(rows, width);
            dN2 = ws.gradient(rows, width);
            dCross = ws.gradient(rows, width);
            dX2 = ws.gradient(rows, width);
            dN3 = ws.gradient(rows, width);
            dFfn = ws.gradient(rows, width);
        }
    }

    /** {@code positions}, {@code srcPositions}: the pass's position ids of the target and the source rows (for RoPE). */
    Activations activations(Workspace ws, String name, int batch, int tgtLength, int srcLength, RowMask selfMask,
                            RowMask crossMask, RowPositions positions, RowPositions srcPositions) {
        return new Activations(ws, name, batch, tgtLength, srcLength, selfMask, crossMask, positions, srcPositions);
    }

    /** a.out = the layer of x, attending to the encoder's output {@code memory}. */
    void forward(Kernels k, Activations a, FloatTensor x, FloatTensor memory, boolean training, long seed) {
        int rows = a.rows;
        long n = (long) rows * width;
        norm1.forward(k, x, a.n1, rows, a.norm1Stats);
        selfAttention.forward(k, a.self, a.n1, a.n1, a.selfOut, training, seed);
        dropout1.forward(k, a.selfOut, a.scratch, n, training, seed);
        k.elementwise().add(x, a.scratch, a.x1, n);
        norm2.forward(k, a.x1, a.n2, rows, a.norm2Stats);
        crossAttention.forward(k, a.cross, a.n2, memory, a.crossOut, training, seed);
        dropout2.forward(k, a.crossOut, a.scratch, n, training, seed);
        k.elementwise().add(a.x1, a.scratch, a.x2, n);
        norm3.forward(k, a.x2, a.n3, rows, a.norm3Stats);
        ffn.forward(k, a.ffnActs, a.n3, a.ffnOut, training, seed);
        dropout3.forward(k, a.ffnOut, a.scratch, n, training, seed);
        k.elementwise().add(a.x2, a.scratch, a.out, n);
    }

    /**
     * Incremental decoding: cross-attention keys and values of the encoder output (rows, C),
     * dense, keys rotated to the sources' {@code positions} where cross-attention has RoPE.
     */
    void projectMemory(Kernels k, FloatTensor memory, int rows, RowPositions positions, FloatTensor keys, FloatTensor values) {
        crossAttention.projectKeysValues(k, memory, rows, positions, keys, values);
    }

    /**
     * Incremental decoding: one position per row. {@code x} (rows, C) is updated in place; its
     * self-attention keys and values join the cache at {@code pos}.
     */
    void step(Kernels k, FloatTensor x, int rows, DecoderCache.Layer cache, int pos, RowMask crossMask, DecoderCache s) {
        long n = (long) rows * width;
        norm1.forward(k, x, s.normed, rows, s.mean, s.rstd);
        selfAttention.appendKeysValues(k, s.normed, rows, cache.selfKeys, cache.selfValues, s.capacity, pos, s.positions,
                s.sublayer);
        selfAttention.attendCached(k, s.normed, rows, s.positions, cache.selfKeys, cache.selfValues, s.capacity, pos + 1, s.selfRowMask,
                s.query, s.scores, s.context, s.sublayer);
        k.elementwise().add(x, s.sublayer, x, n);
        norm2.forward(k, x, s.normed, rows, s.mean, s.rstd);
        crossAttention.attendCached(k, s.normed, rows, s.positions, cache.crossKeys, cache.crossValues, s.srcLength, s.srcLength, crossMask,
                s.query, s.scores, s.context, s.sublayer);
        k.elementwise().add(x, s.sublayer, x, n);
        norm3.forward(k, x, s.normed, rows, s.mean, s.rstd);
        ffn.apply(k, s.normed, s.sublayer, rows, s.hidden, s.activated);
        k.elementwise().add(x, s.sublayer, x, n);
    }

    /**
     * dx += dL/dx and dMemory += dL/dmemory from dOut = dL/dout; {@code dMemoryEmpty}: no layer
     * has written dMemory in this pass yet, so this one stores into it.
     */
    void backward(Kernels k, Activations a, FloatTensor x, FloatTensor memory, FloatTensor dOut, FloatTensor dx,
                  FloatTensor dMemory, boolean dMemoryEmpty, boolean training, long seed) {
        int rows = a.rows;
        long n = (long) rows * width;
        k.elementwise().axpy(1f, dOut, a.dX2, n);
        dropout3.backward(k, dOut, a.dFfn, n, training, seed);
        ffn.backward(k, a.ffnActs, a.n3, a.dFfn, a.dN3, training, seed);
        norm3.backward(k, a.x2, a.dN3, a.dX2, rows, a.norm3Stats);
        k.elementwise().axpy(1f, a.dX2, a.dX1, n);
        dropout2.backward(k, a.dX2, a.dCross, n, training, seed);
        crossAttention.backward(k, a.cross, a.n2, memory, a.dCross, a.dN2, dMemory, true, dMemoryEmpty, training, seed);
        norm2.backward(k, a.x1, a.dN2, a.dX1, rows, a.norm2Stats);
        k.elementwise().axpy(1f, a.dX1, dx, n);
        dropout1.backward(k, a.dX1, a.dSelf, n, training, seed);
        selfAttention.backward(k, a.self, a.n1, a.n1, a.dSelf, a.dN1, a.dN1, true, true, training, seed);
        norm1.backward(k, x, a.dN1, dx, rows, a.norm1Stats);
    }
}
