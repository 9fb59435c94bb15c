package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.RowMask;

/**
 * Pre-LN: masked self-attention, cross-attention over the encoder's output (memory), then the
 * feed-forward, each as {@code x + dropout(sublayer(LN(x)))}.
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

    private int rows;
    private FloatTensor n1;      // (N, C) LN1 output, self-attention input
    private FloatTensor selfOut; // (N, C)
    private FloatTensor x1;      // (N, C) after the first residual
    private FloatTensor n2;      // (N, C) LN2 output, cross-attention query input
    private FloatTensor crossOut; // (N, C)
    private FloatTensor x2;      // (N, C) after the second residual
    private FloatTensor n3;      // (N, C) LN3 output, FFN input
    private FloatTensor ffnOut;  // (N, C)
    private FloatTensor scratch; // (N, C) a sublayer output after dropout
    FloatTensor out;             // (N, C)
    private FloatTensor dN1, dSelf, dX1, dN2, dCross, dX2, dN3, dFfn; // (N, C) each

    static final int DROPOUT_SITES = 6;

    DecoderLayer(Parameters params, String name, TransformerConfig config, long sites) {
        this.width = config.hiddenSize();
        float eps = config.layerNormEps();
        this.norm1 = new Norm(params, name + ".norm1", width, eps);
        this.selfAttention = new MultiHeadAttention(params, name + ".self_attn", config, sites);
        this.dropout1 = new DropoutSite(config.dropout(), sites + 1);
        this.norm2 = new Norm(params, name + ".norm2", width, eps);
        this.crossAttention = new MultiHeadAttention(params, name + ".cross_attn", config, sites + 2);
        this.dropout2 = new DropoutSite(config.dropout(), sites + 3);
        this.norm3 = new Norm(params, name + ".norm3", width, eps);
        this.ffn = new FeedForward(params, name + ".ffn", config, sites + 4);
        this.dropout3 = new DropoutSite(config.dropout(), sites + 5);
    }

    void allocate(Workspace ws, String name, int batch, int tgtLength, int srcLength, RowMask selfMask, RowMask crossMask) {
        rows = batch * tgtLength;
        norm1.allocate(ws, name + ".norm1", rows);
        selfAttention.allocate(ws, name + ".self_attn", batch, tgtLength, tgtLength, selfMask);
        norm2.allocate(ws, name + ".norm2", rows);
        crossAttention.allocate(ws, name + ".cross_attn", batch, tgtLength, srcLength, crossMask);
        norm3.allocate(ws, name + ".norm3", rows);
        ffn.allocate(ws, name + ".ffn", rows);
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

    void forward(Kernels k, FloatTensor x, FloatTensor memory, boolean training, long seed) {
        long n = (long) rows * width;
        norm1.forward(k, x, n1, rows);
        selfAttention.forward(k, n1, n1, selfOut, training, seed);
        dropout1.forward(k, selfOut, scratch, n, training, seed);
        k.elementwise().add(x, scratch, x1, n);
        norm2.forward(k, x1, n2, rows);
        crossAttention.forward(k, n2, memory, crossOut, training, seed);
        dropout2.forward(k, crossOut, scratch, n, training, seed);
        k.elementwise().add(x1, scratch, x2, n);
        norm3.forward(k, x2, n3, rows);
        ffn.forward(k, n3, ffnOut, training, seed);
        dropout3.forward(k, ffnOut, scratch, n, training, seed);
        k.elementwise().add(x2, scratch, out, n);
    }

    /** Incremental decoding: cross-attention keys and values of the encoder output (rows, C), dense. */
    void projectMemory(Kernels k, FloatTensor memory, int rows, FloatTensor keys, FloatTensor values) {
        crossAttention.projectKeysValues(k, memory, rows, keys, values);
    }

    /**
     * Incremental decoding: one position per row. {@code x} (rows, C) is updated in place; its
     * self-attention keys and values join the cache at {@code pos}.
     */
    void step(Kernels k, FloatTensor x, int rows, DecoderCache.Layer cache, int pos, RowMask crossMask, DecoderCache s) {
        long n = (long) rows * width;
        norm1.apply(k, x, s.normed, rows, s.mean, s.rstd);
        selfAttention.appendKeysValues(k, s.normed, rows, cache.selfKeys, cache.selfValues, s.capacity, pos, s.sublayer);
        selfAttention.attendCached(k, s.normed, rows, cache.selfKeys, cache.selfValues, s.capacity, pos + 1, s.selfRowMask,
                s.query, s.scores, s.context, s.sublayer);
        k.elementwise().add(x, s.sublayer, x, n);
        norm2.apply(k, x, s.normed, rows, s.mean, s.rstd);
        crossAttention.attendCached(k, s.normed, rows, cache.crossKeys, cache.crossValues, s.srcLength, s.srcLength, crossMask,
                s.query, s.scores, s.context, s.sublayer);
        k.elementwise().add(x, s.sublayer, x, n);
        norm3.apply(k, x, s.normed, rows, s.mean, s.rstd);
        ffn.apply(k, s.normed, s.sublayer, rows, s.hidden, s.activated);
        k.elementwise().add(x, s.sublayer, x, n);
    }

    /** dx += dL/dx and dMemory += dL/dmemory from dOut = dL/dout. */
    void backward(Kernels k, FloatTensor x, FloatTensor memory, FloatTensor dOut, FloatTensor dx, FloatTensor dMemory,
                  boolean training, long seed) {
        long n = (long) rows * width;
        k.elementwise().axpy(1f, dOut, dX2, n);
        dropout3.backward(k, dOut, dFfn, n, training, seed);
        ffn.backward(k, n3, dFfn, dN3, training, seed);
        norm3.backward(k, x2, dN3, dX2, rows);
        k.elementwise().axpy(1f, dX2, dX1, n);
        dropout2.backward(k, dX2, dCross, n, training, seed);
        crossAttention.backward(k, n2, memory, dCross, dN2, dMemory, training, seed);
        norm2.backward(k, x1, dN2, dX1, rows);
        k.elementwise().axpy(1f, dX1, dx, n);
        dropout1.backward(k, dX1, dSelf, n, training, seed);
        selfAttention.backward(k, n1, n1, dSelf, dN1, dN1, training, seed);
        norm1.backward(k, x, dN1, dx, rows);
    }
}
