package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.RotaryTable;
import dev.panamaformer.kernels.RowMask;

/**
 * Pre-LN: {@code x1 = x + dropout(MHA(LN(x)))}, {@code out = x1 + dropout(FFN(LN(x1)))}. The
 * layer holds weights; a training pass's buffers are its {@link Activations}, a decoding
 * session's its {@link SourceEncoding}.
 */
final class EncoderLayer {
    private final Norm norm1;
    final MultiHeadAttention selfAttention;
    private final DropoutSite dropout1;
    private final Norm norm2;
    private final FeedForward ffn;
    private final DropoutSite dropout2;
    private final int width;

    /** {@code rotary}: the RoPE angles of self-attention, or null. */
    EncoderLayer(Parameters params, String name, TransformerConfig config, long sites, GrowingTable<RotaryTable> rotary) {
        this.width = config.hiddenSize();
        this.norm1 = new Norm(params, name + ".norm1", width, config.layerNormEps());
        this.selfAttention = new MultiHeadAttention(params, name + ".self_attn", config, sites, rotary);
        this.dropout1 = new DropoutSite(config.dropout(), sites + 1);
        this.norm2 = new Norm(params, name + ".norm2", width, config.layerNormEps());
        this.ffn = new FeedForward(params, name + ".ffn", config, sites + 2);
        this.dropout2 = new DropoutSite(config.dropout(), sites + 3);
    }

    static final int DROPOUT_SITES = 4;

    /** A training pass's buffers of this layer, for one shape. */
    final class Activations {
        final int rows;
        final Norm.Statistics norm1Stats, norm2Stats;
        final MultiHeadAttention.Activations attention;
        final FeedForward.Activations ffnActs;
        final FloatTensor n1;       // (N, C) LN1 output, attention input saved for its backward
        final FloatTensor attended; // (N, C)
        final FloatTensor x1;       // (N, C) after the first residual, saved for LN2's backward
        final FloatTensor n2;       // (N, C) LN2 output, the FFN input saved for its backward
        final FloatTensor ffnOut;   // (N, C)
        final FloatTensor scratch;  // (N, C) a sublayer output after dropout
        final FloatTensor out;      // (N, C)
        final FloatTensor dN1, dAttended, dX1, dN2, dFfn; // (N, C) each

        private Activations(Workspace ws, String name, int batch, int length, RowMask srcMask, RowPositions positions) {
            rows = batch * length;
            norm1Stats = Norm.statistics(ws, name + ".norm1", rows);
            attention = selfAttention.activations(ws, name + ".self_attn", batch, length, length, srcMask, positions, positions);
            norm2Stats = Norm.statistics(ws, name + ".norm2", rows);
            ffnActs = ffn.activations(ws, name + ".ffn", rows);
            n1 = ws.activation(name + ".n1", rows, width);
            attended = ws.activation(name + ".attended", rows, width);
            x1 = ws.activation(name + ".x1", rows, width);
            n2 = ws.activation(name + ".n2", rows, width);
            ffnOut = ws.activation(name + ".ffn_out", rows, width);
            scratch = ws.activation(name + ".scratch", rows, width);
            out = ws.activation(name + ".out", rows, width);
            dN1 = ws.gradient(rows, width);
            dAttended = ws.gradient(rows, width);
            dX1 = ws.gradient(rows, width);
            dN2 = ws.gradient(rows, width);
            dFfn = ws.gradient(rows, width);
        }
    }

    /** {@code positions}: the pass's position ids of the rows (for RoPE). */
    Activations activations(Workspace ws, String name, int batch, int length, RowMask srcMask, RowPositions positions) {
        return new Activations(ws, name, batch, length, srcMask, positions);
    }

    /** a.out = the layer of x. */
    void forward(Kernels k, Activations a, FloatTensor x, boolean training, long seed) {
        int rows = a.rows;
        long n = (long) rows * width;
        norm1.forward(k, x, a.n1, rows, a.norm1Stats);
        selfAttention.forward(k, a.attention, a.n1, a.n1, a.attended, training, seed);
        dropout1.forward(k, a.attended, a.scratch, n, training, seed);
        k.elementwise().add(x, a.scratch, a.x1, n);
        norm2.forward(k, a.x1, a.n2, rows, a.norm2Stats);
        ffn.forward(k, a.ffnActs, a.n2, a.ffnOut, training, seed);
        dropout2.forward(k, a.ffnOut, a.scratch, n, training, seed);
        k.elementwise().add(a.x1, a.scratch, a.out, n);
    }

    /**
     * Evaluation mode with the caller's buffers: {@code e.x} (B*S, C) is updated in place. The same
     * kernel calls as {@link #forward} with dropout off, so the same bits.
     */
    void apply(Kernels k, SourceEncoding e) {
        long n = (long) e.rows * width;
        norm1.forward(k, e.x, e.normed, e.rows, e.mean, e.rstd);
        selfAttention.selfAttend(k, e);
        k.elementwise().add(e.x, e.sublayer, e.x, n);
        norm2.forward(k, e.x, e.normed, e.rows, e.mean, e.rstd);
        ffn.apply(k, e.normed, e.sublayer, e.rows, e.hidden, e.activated);
        k.elementwise().add(e.x, e.sublayer, e.x, n);
    }

    /** dx += dL/dx from dOut = dL/dout. */
    void backward(Kernels k, Activations a, FloatTensor x, FloatTensor dOut, FloatTensor dx, boolean training, long seed) {
        int rows = a.rows;
        long n = (long) rows * width;
        k.elementwise().axpy(1f, dOut, a.dX1, n);
        dropout2.backward(k, dOut, a.dFfn, n, training, seed);
        ffn.backward(k, a.ffnActs, a.n2, a.dFfn, a.dN2, training, seed);
        norm2.backward(k, a.x1, a.dN2, a.dX1, rows, a.norm2Stats);
        k.elementwise().axpy(1f, a.dX1, dx, n);
        dropout1.backward(k, a.dX1, a.dAttended, n, training, seed);
        selfAttention.backward(k, a.attention, a.n1, a.n1, a.dAttended, a.dN1, a.dN1, true, true, training, seed);
        norm1.backward(k, x, a.dN1, dx, rows, a.norm1Stats);
    }
}
