package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/**
 * Linear(d, d_ff), ReLU or GELU, dropout, Linear(d_ff, d). Weights only: a training pass's
 * buffers are its {@link Activations}, a decoding session's are passed to {@link #apply}.
 */
final class FeedForward {
    private final Linear fc1;
    private final Linear fc2;
    private final TransformerConfig.Activation activation;
    private final DropoutSite dropout;
    private final int inner;

    /** A training pass's buffers for {@code rows} rows. */
    static final class Activations {
        final int rows;
        final FloatTensor hidden;     // (N, F) pre-activation, saved for the activation's backward
        final FloatTensor activated;  // (N, F) the dropout input
        final FloatTensor dropped;    // (N, F) fc2's input, saved for its weight gradient
        final FloatTensor dDropped;   // (N, F)
        final FloatTensor dActivated; // (N, F)
        final FloatTensor dHidden;    // (N, F)

        Activations(Workspace ws, String name, int rows, int inner) {
            this.rows = rows;
            hidden = ws.activation(name + ".hidden", rows, inner);
            activated = ws.activation(name + ".activated", rows, inner);
            dropped = ws.activation(name + ".dropped", rows, inner);
            dDropped = ws.gradient(rows, inner);
            dActivated = ws.gradient(rows, inner);
            dHidden = ws.gradient(rows, inner);
        }
    }

    FeedForward(Parameters params, String name, TransformerConfig config, long dropoutSite) {
        this.inner = config.intermediateSize();
        this.fc1 = new Linear(params, name + ".fc1", config.hiddenSize(), inner);
        this.fc2 = new Linear(params, name + ".fc2", inner, config.hiddenSize());
        this.activation = config.activation();
        this.dropout = new DropoutSite(config.dropout(), dropoutSite);
    }

    Activations activations(Workspace ws, String name, int rows) {
        return new Activations(ws, name, rows, inner);
    }

    /** out (N, C) = fc2(dropout(act(fc1(x)))), with the pass's buffers saved for backward. */
    void forward(Kernels k, Activations a, FloatTensor x, FloatTensor out, boolean training, long seed) {
        forward(k, x, out, a.rows, a.hidden, a.activated, a.dropped, training, seed);
    }

    /** Incremental decoding: out (rows, C) = fc2(act(fc1(x))), no dropout; hidden and activated are (rows, F) scratch. */
    void apply(Kernels k, FloatTensor x, FloatTensor out, int rows, FloatTensor hiddenScratch, FloatTensor activatedScratch) {
        forward(k, x, out, rows, hiddenScratch, activatedScratch, null, false, 0);
    }

    /** Both of the above: fc2 reads {@code dropped} (dropout of activated) or, where it is null, activated itself. */
    private void forward(Kernels k, FloatTensor x, FloatTensor out, int rows, FloatTensor hidden, FloatTensor activated,
                         FloatTensor dropped, boolean training, long seed) {
        long n = (long) rows * inner;
        fc1.forward(k, x, hidden, rows);
        activate(k, hidden, activated, n);
        FloatTensor fc2In = activated;
        if (dropped != null) {
            dropout.forward(k, activated, dropped, n, training, seed);
            fc2In = dropped;
        }
        fc2.forward(k, fc2In, out, rows);
    }

    /** dx = dL/dx from dOut = dL/dout: stored, not added (each caller's dx holds nothing else). */
    void backward(Kernels k, Activations a, FloatTensor x, FloatTensor dOut, FloatTensor dx, boolean training, long seed) {
        long n = (long) a.rows * inner;
        fc2.backward(k, a.dropped, dOut, a.dDropped, a.rows, true);
        dropout.backward(k, a.dDropped, a.dActivated, n, training, seed);
        if (activation == TransformerConfig.Activation.GELU) {
            k.activations().geluBackward(a.hidden, a.dActivated, a.dHidden, n);
        } else {
            k.activations().reluBackward(a.hidden, a.dActivated, a.dHidden, n);
        }
        fc1.backward(k, x, a.dHidden, dx, a.rows, true);
    }

    /** out = act(in) for the config's activation, over n values. */
    private void activate(Kernels k, FloatTensor in, FloatTensor out, long n) {
        if (activation == TransformerConfig.Activation.GELU) {
            k.activations().gelu(in, out, n);
        } else {
            k.activations().relu(in, out, n);
        }
    }
}
