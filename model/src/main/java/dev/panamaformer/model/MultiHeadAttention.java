package dev.panamaformer.model;

import dev.panamaformer.kernels.AttentionShape;
import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.MatrixBatch;
import dev.panamaformer.kernels.RotaryTable;
import dev.panamaformer.kernels.RowMask;

/**
 * Multi-head attention with separate Q, K, V and output projections: self-attention (query and
 * key/value from the same input), causal self-attention, or cross-attention (key/value from the
 * encoder's output), with key padding masks.
 *
 * <p>Two paths compute the same function: the materialized one holds the (B, h, Tq, Tk) scores,
 * probabilities and their gradients, and is the reference; the fused one
 * ({@link dev.panamaformer.kernels.FusedAttention}) keeps only each query's log-sum-exp and takes
 * over from {@link RunOptions#fusedAttentionFrom()} keys on. Both drop the same
 * probabilities for a seed.
 */
final class MultiHeadAttention {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final DropoutSite dropout;
    private final int heads;
    private final int headSize;
    private final int width;
    private final float scale;
    /**
     * The angles that rotate queries and keys by their position ids (RoPE), or null: no rotation
     * (other position types, and cross-attention unless the type is {@code ROPE_CROSS}).
     */
    private final GrowingTable<RotaryTable> rotary;

    /** RoPE's angles for the rows of {@code positions}: a scaling session's own, else the model's table. */
    private RotaryTable table(RowPositions positions) {
        ScaledPositions scaled = positions.scaled;
        return scaled != null ? scaled.rotary() : rotary.covering(positions.bound);
    }

    MultiHeadAttention(Parameters params, String name, TransformerConfig config, long dropoutSite, GrowingTable<RotaryTable> rotary) {
        this.rotary = rotary;
        this.width = config.hiddenSize();
        this.heads = config.numHeads();
        this.headSize = config.headSize();
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        this.q = new Linear(params, name + ".q", width, width);
        this.k = new Linear(params, name + ".k", width, width);
        this.v = new Linear(params, name + ".v", width, width);
        this.o = new Linear(params, name + ".o", width, width);
        this.dropout = new DropoutSite(config.attentionDropout(), dropoutSite);
    }

    /**
     * A training pass's buffers for {@code batch} sequences of {@code queries} queries attending
     * to {@code keys} keys under {@code mask}; {@code queryPositions} and {@code keyPositions}:
     * the position ids of their rows (the same for self-attention), which RoPE rotates them by.
     */
    Activations activations(Workspace ws, String name, int batch, int queries, int keys, RowMask mask,
                            RowPositions queryPositions, RowPositions keyPositions) {
        return new Activations(ws, name, batch, queries, keys, mask, queryPositions, keyPositions);
    }

    /** One training pass's buffers of this attention, for one shape; the weights stay the layer's. */
    final class Activations {
        private final Workspace ws;
        private final String name;
        private final int batch;
        private final int queries;
        private final int keys;
        private RowMask mask;                // with the stack's position bias, if any: see useBias
        private FloatTensor dBias;           // (h, 2 * span + 1) the gradient of a learned bias's table, or null
        private final boolean fused;         // this shape takes the fused kernel
        private final AttentionShape shape;
        private final FloatTensor qOut;      // (B*Tq, C) saved for dK
        private final FloatTensor kOut;      // (B*Tk, C) saved for dQ
        private final FloatTensor vOut;      // (B*Tk, C) saved for dP
        private FloatTensor lse;             // (B, h, Tq) fused path: log-sum-exp of each query's scores, saved for its backward
        private FloatTensor probs;           // (B, h, Tq, Tk) materialized path (or on request): softmax output
        private FloatTensor dropped;         // (B, h, Tq, Tk) probabilities after dropout, saved for dV
        private final FloatTensor context;   // (B*Tq, C) heads side by side, saved for dWo
        private final FloatTensor dContext;  // (B*Tq, C)
        private FloatTensor dDropped;        // (B, h, Tq, Tk)
        private FloatTensor dProbs;          // (B, h, Tq, Tk)
        private FloatTensor dScores;         // (B, h, Tq, Tk)
        private final FloatTensor dq;        // (B*Tq, C)
        private final FloatTensor dk;        // (B*Tk, C)
        private final FloatTensor dv;        // (B*Tk, C)
        // per (batch, head) views of the above, made once per shape
        private final MatrixBatch qHeads, kHeads, vHeads, contextHeads;
        private final MatrixBatch dContextHeads, dqHeads, dkHeads, dvHeads;
        private MatrixBatch probHeads, droppedHeads, dDroppedHeads, dScoreHeads;
        private final RowPositions queryPositions; // (B*Tq) the ids of the query rows, set by the pass for each batch
        private final RowPositions keyPositions;   // (B*Tk) of the key rows: the same instance for self-attention

        private Activations(Workspace ws, String name, int batch, int queries, int keys, RowMask mask,
                            RowPositions queryPositions, RowPositions keyPositions) {
            this.ws = ws;
            this.name = name;
            this.batch = batch;
            this.queries = queries;
            this.keys = keys;
            this.mask = mask;
            this.fused = keys >= ws.fusedAttentionFrom();
            this.shape = new AttentionShape(batch, heads, queries, keys, headSize);
            this.queryPositions = queryPositions;
            this.keyPositions = keyPositions;
            int nq = batch * queries, nk = batch * keys, scores = batch * heads * queries * keys;
            qOut = ws.activation(name + ".q", nq, width);
            kOut = ws.activation(name + ".k", nk, width);
            vOut = ws.activation(name + ".v", nk, width);
            context = ws.activation(name + ".context", nq, width);
            dContext = ws.gradient(nq, width);
            dq = ws.gradient(nq, width);
            dk = ws.gradient(nk, width);
            dv = ws.gradient(nk, width);
            qHeads = slices(qOut, queries);
            kHeads = slices(kOut, keys);
            vHeads = slices(vOut, keys);
            contextHeads = slices(context, queries);
            dContextHeads = slices(dContext, queries);
            dqHeads = slices(dq, queries);
            dkHeads = slices(dk, keys);
            dvHeads = slices(dv, keys);
            if (fused) {
                lse = ws.saved(batch, heads, queries);
                return;
            }
            probs = ws.activation(name + ".probs", batch, heads, queries, keys);
            dropped = ws.activation(name + ".dropped", batch, heads, queries, keys);
            dDropped = ws.gradient(scores);
            dProbs = ws.gradient(scores);
            dScores = ws.gradient(scores);
            probHeads = scoreMatrices(probs);
            droppedHeads = scoreMatrices(dropped);
            dDroppedHeads = scoreMatrices(dDropped);
            dScoreHeads = scoreMatrices(dScores);
        }

        /**
         * From now on the scores get {@code mask}'s position bias (the pass's mask with it), and
         * the backward pass adds its table's gradient to {@code dBias} (null: a fixed bias).
         */
        void useBias(RowMask mask, FloatTensor dBias) {
            this.mask = mask;
            this.dBias = dBias;
        }

        /** Head h of sequence b of a (B*T, C) tensor: (T, d_k) at column h*d_k, rows C apart. */
        private MatrixBatch slices(FloatTensor t, int length) {
            return new MatrixBatch(t, 0, width, (long) length * width, headSize);
        }

        /** The (Tq, Tk) matrix of sequence b and head h in a (B, h, Tq, Tk) tensor. */
        private MatrixBatch scoreMatrices(FloatTensor t) {
            return new MatrixBatch(t, 0, keys, (long) heads * queries * keys, (long) queries * keys);
        }

        /** probs = softmax(Q Kᵀ / sqrt(d_k) + mask), per (sequence, head). */
        private void scores(Kernels kn) {
            kn.matmul().gemmBatched(batch, heads, false, true, queries, keys, headSize, scale, qHeads, kHeads, 0f, probHeads);
            kn.softmax().forward(probs, probs, batch * heads * queries, keys, mask);
        }
    }

    /**
     * The attention probabilities (B, h, Tq, Tk) of the pass's last forward, before dropout. The
     * fused path never holds them: they are computed here, on request, by the materialized
     * path's kernels from the saved queries and keys.
     */
    FloatTensor probabilities(Kernels kn, Activations a) {
        if (a.probs == null) {
            a.probs = a.ws.activation(a.name + ".probs", a.batch, heads, a.queries, a.keys);
            a.probHeads = a.scoreMatrices(a.probs);
        }
        if (a.fused) {
            a.scores(kn);
        }
        return a.probs;
    }

    /** out (B*Tq, C) = attention of xq's queries over xkv's keys and values. */
    void forward(Kernels kn, Activations a, FloatTensor xq, FloatTensor xkv, FloatTensor out, boolean training, long seed) {
        q.forward(kn, xq, a.qOut, a.batch * a.queries);
        k.forward(kn, xkv, a.kOut, a.batch * a.keys);
        v.forward(kn, xkv, a.vOut, a.batch * a.keys);
        if (rotary != null) {
            var table = rotary.covering(Math.max(a.queryPositions.bound, a.keyPositions.bound));
            kn.rotary().rotate(a.qOut, a.qOut, a.batch * a.queries, heads, a.queryPositions.ids, table, false);
            kn.rotary().rotate(a.kOut, a.kOut, a.batch * a.keys, heads, a.keyPositions.ids, table, false);
        }
        if (a.fused) {
            kn.fusedAttention().forward(a.shape, scale, a.qHeads, a.kHeads, a.vHeads, a.mask, dropout.probability(training),
                    dropout.seed(seed), a.contextHeads, a.lse);
        } else {
            a.scores(kn);
            dropout.forward(kn, a.probs, a.dropped, a.probs.size(), training, seed);
            kn.matmul().gemmBatched(a.batch, heads, false, false, a.queries, headSize, a.keys, 1f, a.droppedHeads, a.vHeads, 0f,
                    a.contextHeads);
        }
        o.forward(kn, a.context, out, a.batch * a.queries);
    }

    /**
     * Incremental decoding: the key and value projections of {@code x} (rows, C) written into
     * slot {@code pos} of each row's cache (rows, capacity, C), keys rotated to the rows'
     * {@code positions} with RoPE; {@code scratch} holds (rows, C).
     */
    void appendKeysValues(Kernels kn, FloatTensor x, int rows, FloatTensor kCache, FloatTensor vCache, int capacity, int pos,
                          RowPositions positions, FloatTensor scratch) {
        k.forward(kn, x, scratch, rows);
        if (rotary != null) {
            kn.rotary().rotate(scratch, scratch, rows, heads, positions.ids, table(positions), false);
        }
        copyRows(scratch, kCache, rows, capacity, pos);
        v.forward(kn, x, scratch, rows);
        copyRows(scratch, vCache, rows, capacity, pos);
    }

    /** Rows of a (rows, C) tensor into position {@code pos} of a (rows, capacity, C) cache. */
    private void copyRows(FloatTensor src, FloatTensor cache, int rows, int capacity, int pos) {
        long rowBytes = (long) width * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            java.lang.foreign.MemorySegment.copy(src.segment(), r * rowBytes, cache.segment(),
                    ((long) r * capacity + pos) * rowBytes, rowBytes);
        }
    }

    /**
     * Key and value projections of {@code x} (rows, C) into dense {@code kOut} and {@code vOut}
     * (rows, C), keys rotated to the rows' {@code positions} with RoPE.
     */
    void projectKeysValues(Kernels kn, FloatTensor x, int rows, RowPositions positions, FloatTensor kOut, FloatTensor vOut) {
        k.forward(kn, x, kOut, rows);
        if (rotary != null) {
            kn.rotary().rotate(kOut, kOut, rows, heads, positions.ids, table(positions), false);
        }
        v.forward(kn, x, vOut, rows);
    }

    /**
     * Incremental decoding: {@code out} (rows, C) = attention of one query per row (from
     * {@code x}, rows, C; at {@code positions}, for RoPE) over keys {@code [0, keys)} of caches
     * laid out (rows, capacity, C).
     * {@code query} and {@code context} are (rows, C) scratch, {@code scores} holds rows * h * keys.
     */
    void attendCached(Kernels kn, FloatTensor x, int rows, RowPositions positions, FloatTensor kCache, FloatTensor vCache,
                      int capacity, int keys, RowMask mask, FloatTensor query, FloatTensor scores, FloatTensor context, FloatTensor out) {
        q.forward(kn, x, query, rows);
        if (rotary != null) {
            kn.rotary().rotate(query, query, rows, heads, positions.ids, table(positions), false);
        }
        MatrixBatch qh = new MatrixBatch(query, 0, width, width, headSize);
        MatrixBatch kh = new MatrixBatch(kCache, 0, width, (long) capacity * width, headSize);
        MatrixBatch vh = new MatrixBatch(vCache, 0, width, (long) capacity * width, headSize);
        MatrixBatch sh = new MatrixBatch(scores, 0, keys, (long) heads * keys, keys);
        MatrixBatch ch = new MatrixBatch(context, 0, width, width, headSize);
        kn.matmul().gemmBatched(rows, heads, false, true, 1, keys, headSize, scale, qh, kh, 0f, sh);
        kn.softmax().forward(scores, scores, rows * heads, keys, mask);
        kn.matmul().gemmBatched(rows, heads, false, false, 1, headSize, keys, 1f, sh, vh, 0f, ch);
        o.forward(kn, context, out, rows);
    }

    /**
     * Self-attention in evaluation mode with the caller's buffers (see {@link SourceEncoding}):
     * {@code e.sublayer} = attention of {@code e.normed} over itself, for e.batch sequences of
     * e.length. The same kernel calls as {@link #forward} without dropout, so the same bits.
     */
    void selfAttend(Kernels kn, SourceEncoding e) {
        int n = e.rows, length = e.length;
        q.forward(kn, e.normed, e.q, n);
        k.forward(kn, e.normed, e.k, n);
        v.forward(kn, e.normed, e.v, n);
        if (rotary != null) {
            var table = table(e.positions);
            kn.rotary().rotate(e.q, e.q, n, heads, e.positions.ids, table, false);
            kn.rotary().rotate(e.k, e.k, n, heads, e.positions.ids, table, false);
        }
        MatrixBatch qh = new MatrixBatch(e.q, 0, width, (long) length * width, headSize);
        MatrixBatch kh = new MatrixBatch(e.k, 0, width, (long) length * width, headSize);
        MatrixBatch vh = new MatrixBatch(e.v, 0, width, (long) length * width, headSize);
        MatrixBatch ch = new MatrixBatch(e.context, 0, width, (long) length * width, headSize);
        if (e.fused) {
            kn.fusedAttention().forward(new AttentionShape(e.batch, heads, length, length, headSize), scale, qh, kh, vh, e.mask,
                    0f, 0, ch, e.scores);
        } else {
            MatrixBatch sh = new MatrixBatch(e.scores, 0, length, (long) heads * length * length, (long) length * length);
            kn.matmul().gemmBatched(e.batch, heads, false, true, length, length, headSize, scale, qh, kh, 0f, sh);
            kn.softmax().forward(e.scores, e.scores, e.batch * heads * length, length, e.mask);
            kn.matmul().gemmBatched(e.batch, heads, false, false, length, headSize, length, 1f, sh, vh, 0f, ch);
        }
        o.forward(kn, e.context, e.sublayer, n);
    }

    /**
     * dxq += dL/dxq and dxkv += dL/dxkv from dOut; for self-attention both may be the same buffer.
     * Where {@code dxqEmpty} or {@code dxkvEmpty} says that a buffer holds nothing of this pass yet,
     * its first product stores rather than adds.
     */
    void backward(Kernels kn, Activations a, FloatTensor xq, FloatTensor xkv, FloatTensor dOut, FloatTensor dxq,
                  FloatTensor dxkv, boolean dxqEmpty, boolean dxkvEmpty, boolean training, long seed) {
        o.backward(kn, a.context, dOut, a.dContext, a.batch * a.queries, true);
        if (a.fused) {
            kn.fusedAttention().backward(a.shape, scale, a.qHeads, a.kHeads, a.vHeads, a.mask, dropout.probability(training),
                    dropout.seed(seed), a.contextHeads, a.lse, a.dContextHeads, a.dqHeads, a.dkHeads, a.dvHeads, a.dBias);
        } else {
            materializedBackward(kn, a, training, seed);
        }
        if (rotary != null) { // the gradients of the rotated queries and keys, back through the rotation
            var table = rotary.covering(Math.max(a.queryPositions.bound, a.keyPositions.bound));
            kn.rotary().rotate(a.dq, a.dq, a.batch * a.queries, heads, a.queryPositions.ids, table, true);
            kn.rotary().rotate(a.dk, a.dk, a.batch * a.keys, heads, a.keyPositions.ids, table, true);
        }
        q.backward(kn, xq, a.dq, dxq, a.batch * a.queries, dxqEmpty);
        // one buffer for both (self-attention): the queries' product has written it already
        k.backward(kn, xkv, a.dk, dxkv, a.batch * a.keys, dxkvEmpty && dxkv != dxq);
        v.backward(kn, xkv, a.dv, dxkv, a.batch * a.keys, false);
    }

    private void materializedBackward(Kernels kn, Activations a, boolean training, long seed) {
        int b = a.batch, tq = a.queries, tk = a.keys;
        kn.matmul().gemmBatched(b, heads, false, true, tq, tk, headSize, 1f, a.dContextHeads, a.vHeads, 0f, a.dDroppedHeads);
        kn.matmul().gemmBatched(b, heads, true, false, tk, headSize, tq, 1f, a.droppedHeads, a.dContextHeads, 1f, a.dvHeads);
        dropout.backward(kn, a.dDropped, a.dProbs, a.probs.size(), training, seed);
        kn.softmax().backward(a.probs, a.dProbs, a.dScores, b * heads * tq, tk);
        if (a.dBias != null) {
            kn.attentionBias().backward(a.dScores, b * heads * tq, tk, a.mask.bias(), a.dBias);
        }
        kn.matmul().gemmBatched(b, heads, false, false, tq, headSize, tk, scale, a.dScoreHeads, a.kHeads, 1f, a.dqHeads);
        kn.matmul().gemmBatched(b, heads, true, false, tk, headSize, tq, scale, a.dScoreHeads, a.qHeads, 1f, a.dkHeads);
    }
}
