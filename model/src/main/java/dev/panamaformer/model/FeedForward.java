package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/** Linear(d, d_ff), ReLU or GELU, dropout, Linear(d_ff, d). */
final class FeedForward {
    private final Linear fc1;
    private final Linear fc2;
    private final TransformerConfig.Activation activation;
    private final DropoutSite dropout;
    private final int inner;

    private int rows;
    private FloatTensor hidden;    // (N, F) pre-activation, saved for the activation's backward
    private FloatTensor activated; // (N, F) the dropout input
    private FloatTensor dropped;   // (N, F) fc2's input, saved for its weight gradient
    private FloatTensor dDropped;  // (N, F)
    private FloatTensor dActivated; // (N, F)
    private FloatTensor dHidden;   // (N, F)

    FeedForward(Parameters params, String name, TransformerConfig config, long dropoutSite) {
        this.inner = config.intermediateSize();
        this.fc1 = new Linear(params, name + ".fc1", config.hiddenSize(), inner);
        this.fc2 = new Linear(params, name + ".fc2", inner, config.hiddenSize());
        this.activation = config.activation();
        this.dropout = new DropoutSite(config.dropout(), dropoutSite);
    }

    void allocate(Workspace ws, String name, int rows) {
        this.rows = rows;
        hidden = ws.activation(name + ".hidden", rows, inner);
        activated = ws.activation(name + ".activated", rows, inner);
        dropped = ws.activation(name + ".dropped", rows, inner);
        dDropped = ws.gradient(rows, inner);
        dActivated = ws.gradient(rows, inner);
        dHidden = ws.gradient(rows, inner);
    }

    /** out (N, C) = fc2(dropout(act(fc1(x)))). */
    void forward(Kernels k, FloatTensor x, FloatTensor out, boolean training, long seed) {
        long n = (long) rows * inner;
        fc1.forward(k, x, hidden, rows);
        activate(k, hidden, activated, n);
        dropout.forward(k, activated, dropped, n, training, seed);
        fc2.forward(k, dropped, out, rows);
    }

    /** Incremental decoding: out (rows, C) = fc2(act(fc1(x))), no dropout; hidden and activated are (rows, F) scratch. */
    void apply(Kernels k, FloatTensor x, FloatTensor out, int rows, FloatTensor hiddenScratch, FloatTensor activatedScratch) {
        long n = (long) rows * inner;
        fc1.forward(k, x, hiddenScratch, rows);
        activate(k, hiddenScratch, activatedScratch, n);
        fc2.forward(k, activatedScratch, out, rows);
    }

    void backward(Kernels k, FloatTensor x, FloatTensor dOut, FloatTensor dx, boolean training, long seed) {
        long n = (long) rows * inner;
        fc2.backward(k, dropped, dOut, dDropped, rows);
        dropout.backward(k, dDropped, dActivated, n, training, seed);
        if (activation == TransformerConfig.Activation.GELU) {
            k.activations().geluBackward(hidden, dActivated, dHidden, n);
        } else {
            k.activations().reluBackward(hidden, dActivated, dHidden, n);
        }
        fc1.backward(k, x, dHidden, dx, rows);
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
