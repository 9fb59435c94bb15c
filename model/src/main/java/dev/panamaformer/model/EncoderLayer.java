package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.RowMask;

/** Pre-LN: {@code x1 = x + dropout(MHA(LN(x)))}, {@code out = x1 + dropout(FFN(LN(x1)))}. */
final class EncoderLayer {
    private final Norm norm1;
    final MultiHeadAttention selfAttention;
    private final DropoutSite dropout1;
    private final Norm norm2;
    private final FeedForward ffn;
    private final DropoutSite dropout2;
    private final int width;

    private int rows;
    private FloatTensor n1;       // (N, C) LN1 output, attention input saved for its backward
    private FloatTensor attended; // (N, C)
    private FloatTensor x1;       // (N, C) after the first residual, saved for LN2's backward
    private FloatTensor n2;       // (N, C) LN2 output, the FFN input saved for its backward
    private FloatTensor ffnOut;   // (N, C)
    private FloatTensor scratch;  // (N, C) a sublayer output after dropout
    FloatTensor out;              // (N, C)
    private FloatTensor dN1, dAttended, dX1, dN2, dFfn; // (N, C) each

    EncoderLayer(Parameters params, String name, TransformerConfig config, long sites) {
        this.width = config.hiddenSize();
        this.norm1 = new Norm(params, name + ".norm1", width, config.layerNormEps());
        this.selfAttention = new MultiHeadAttention(params, name + ".self_attn", config, sites);
        this.dropout1 = new DropoutSite(config.dropout(), sites + 1);
        this.norm2 = new Norm(params, name + ".norm2", width, config.layerNormEps());
        this.ffn = new FeedForward(params, name + ".ffn", config, sites + 2);
        this.dropout2 = new DropoutSite(config.dropout(), sites + 3);
    }

    static final int DROPOUT_SITES = 4;

    void allocate(Workspace ws, String name, int batch, int length, RowMask srcMask) {
        rows = batch * length;
        norm1.allocate(ws, name + ".norm1", rows);
        selfAttention.allocate(ws, name + ".self_attn", batch, length, length, srcMask);
        norm2.allocate(ws, name + ".norm2", rows);
        ffn.allocate(ws, name + ".ffn", rows);
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

    void forward(Kernels k, FloatTensor x, boolean training, long seed) {
        long n = (long) rows * width;
        norm1.forward(k, x, n1, rows);
        selfAttention.forward(k, n1, n1, attended, training, seed);
        dropout1.forward(k, attended, scratch, n, training, seed);
        k.elementwise().add(x, scratch, x1, n);
        norm2.forward(k, x1, n2, rows);
        ffn.forward(k, n2, ffnOut, training, seed);
        dropout2.forward(k, ffnOut, scratch, n, training, seed);
        k.elementwise().add(x1, scratch, out, n);
    }

    /**
     * Evaluation mode with the caller's buffers: {@code e.x} (B*S, C) is updated in place. The same
     * kernel calls as {@link #forward} with dropout off, so the same bits.
     */
    void apply(Kernels k, SourceEncoding e) {
        long n = (long) e.rows * width;
        norm1.apply(k, e.x, e.normed, e.rows, e.mean, e.rstd);
        selfAttention.selfAttend(k, e);
        k.elementwise().add(e.x, e.sublayer, e.x, n);
        norm2.apply(k, e.x, e.normed, e.rows, e.mean, e.rstd);
        ffn.apply(k, e.normed, e.sublayer, e.rows, e.hidden, e.activated);
        k.elementwise().add(e.x, e.sublayer, e.x, n);
    }

    /** dx += dL/dx from dOut = dL/dout. */
    void backward(Kernels k, FloatTensor x, FloatTensor dOut, FloatTensor dx, boolean training, long seed) {
        long n = (long) rows * width;
        k.elementwise().axpy(1f, dOut, dX1, n);
        dropout2.backward(k, dOut, dFfn, n, training, seed);
        ffn.backward(k, n2, dFfn, dN2, training, seed);
        norm2.backward(k, x1, dN2, dX1, rows);
        k.elementwise().axpy(1f, dX1, dx, n);
        dropout1.backward(k, dX1, dAttended, n, training, seed);
        selfAttention.backward(k, n1, n1, dAttended, dN1, dN1, training, seed);
        norm1.backward(k, x, dN1, dx, rows);
    }
}
