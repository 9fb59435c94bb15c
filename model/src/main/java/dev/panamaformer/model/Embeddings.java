package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.foreign.Arena;

/**
 * Token embedding plus position encoding, then LayerNorm, then dropout. Weights (and the
 * sinusoid table, grown on demand) only; a training pass's buffers are its {@link Activations}.
 */
final class Embeddings {
    private final Parameter token;      // (V, C)
    private final Parameter position;   // (P, C) when learned, else null
    /** Whether positions are added here (learned or sinusoids); with RoPE attention rotates instead, with none nothing does. */
    private final boolean absolute;
    /** The fixed encodings of the paper, computed for the positions in use (in the model's arena), or null. */
    private final GrowingTable<Sinusoids> sinusoids;
    private final Norm norm;
    private final DropoutSite dropout;
    private final int vocab;
    private final int width;
    private final int maxPositions;

    Embeddings(Parameters params, Arena arena, String name, TransformerConfig config, int vocab, long dropoutSite) {
        this.vocab = vocab;
        this.width = config.hiddenSize();
        this.maxPositions = config.maxPositions();
        this.token = params.create(name + ".token.weight", Parameter.Init.XAVIER, vocab, width);
        this.sinusoids = config.positions() == TransformerConfig.Positions.SINUSOIDAL
                ? new GrowingTable<>(maxPositions, rows -> new Sinusoids(sinusoids(arena, rows, width), rows), Sinusoids::rows)
                : null;
        this.absolute = config.positions() == TransformerConfig.Positions.LEARNED
                || config.positions() == TransformerConfig.Positions.SINUSOIDAL;
        this.position = config.positions() == TransformerConfig.Positions.LEARNED
                ? params.create(name + ".position.weight", Parameter.Init.XAVIER, maxPositions, width)
                : null;
        this.norm = new Norm(params, name + ".norm", width, config.layerNormEps());
        this.dropout = new DropoutSite(config.dropout(), dropoutSite);
    }

    /** PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). */
    static FloatTensor sinusoids(Arena arena, int positions, int width) {
        return sinusoids(arena, positions, width, 1);
    }

    /** The sinusoids at positions pos / {@code scale} for pos in [0, positions): interpolated where scale > 1. */
    static FloatTensor sinusoids(Arena arena, int positions, int width, double scale) {
        float[] table = new float[Math.multiplyExact(positions, width)];
        for (int pos = 0; pos < positions; pos++) {
            for (int i = 0; i < width; i++) {
                double angle = pos / scale / Math.pow(10000, (i - i % 2) / (double) width);
                table[pos * width + i] = (float) (i % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
            }
        }
        return FloatTensor.of(arena, table, positions, width);
    }

    /** A sinusoid table of {@code rows} positions. */
    private record Sinusoids(FloatTensor table, int rows) {
    }

    /**
     * The rows this stream adds for positions [0, {@code needed}) of a decoding session that
     * scales them ({@link PositionScaling}): the learned table read between its rows at
     * p (L - 1) / (needed - 1), L the trained length, interpolated linearly; or the sinusoids
     * at p L / needed. Null where positions are not added here (RoPE, none).
     */
    FloatTensor scaledTable(Arena arena, int needed, PositionScaling scaling) {
        int trained = scaling.trainedLength();
        if (sinusoids != null) {
            return sinusoids(arena, needed, width, needed / (double) trained);
        }
        if (position == null) {
            return null;
        }
        float[] learned = position.value().toArray(), table = new float[Math.multiplyExact(needed, width)];
        for (int p = 0; p < needed; p++) {
            double x = (double) p * (trained - 1) / (needed - 1);
            int low = (int) Math.floor(x), high = Math.min(low + 1, trained - 1);
            double w = x - low;
            for (int c = 0; c < width; c++) {
                table[p * width + c] = (float) ((1 - w) * learned[low * width + c] + w * learned[high * width + c]);
            }
        }
        return FloatTensor.of(arena, table, needed, width);
    }

    /**
     * Gathers the position rows of {@code positions} into {@code out}: from a scaling session's
     * own table, the learned table, or the sinusoids, grown to cover the ids (see {@link GrowingTable}).
     */
    private void gatherPositions(Kernels k, RowPositions positions, int rows, FloatTensor out) {
        int[] ids = positions.ids;
        ScaledPositions scaled = positions.scaled;
        if (scaled != null) {
            FloatTensor table = scaled.absolute();
            k.elementwise().gatherRows(table, table.shape()[0], ids, rows, out, width);
            return;
        }
        int needed = positions.bound;
        if (position != null) {
            k.elementwise().gatherRows(position.value(), maxPositions, ids, rows, out, width);
            return;
        }
        Sinusoids s = sinusoids.covering(needed);
        k.elementwise().gatherRows(s.table(), s.rows(), ids, rows, out, width);
    }

    /** A training pass's buffers of these embeddings, for {@code batch} sequences of {@code length}. */
    static final class Activations {
        final int rows;
        final RowPositions positions; // (B*T): set by the pass for each batch, shared with self-attention's RoPE
        int[] tokenIds;            // (B*T): the ids of the last forward, saved for backward
        final FloatTensor tokens;  // (B*T, C)
        final FloatTensor sum;     // (B*T, C) tokens + positions, the LayerNorm input saved for backward
        final FloatTensor normed;  // (B*T, C) LayerNorm output, the dropout input
        final FloatTensor out;     // (B*T, C)
        final Norm.Statistics normStats;
        final FloatTensor dNormed; // (B*T, C)
        final FloatTensor dSum;    // (B*T, C)

        private Activations(Workspace ws, String name, int batch, int length, int width, RowPositions positions) {
            rows = batch * length;
            this.positions = positions;
            tokens = ws.activation(name + ".tokens", rows, width);
            sum = ws.activation(name + ".sum", rows, width);
            normed = ws.activation(name + ".normed", rows, width);
            out = ws.activation(name + ".out", rows, width);
            normStats = Norm.statistics(ws, name + ".norm", rows);
            dNormed = ws.gradient(rows, width);
            dSum = ws.gradient(rows, width);
        }
    }

    /** {@code positions}: the pass's position ids of these rows, which the pass sets before each forward. */
    Activations activations(Workspace ws, String name, int batch, int length, RowPositions positions) {
        return new Activations(ws, name, batch, length, width, positions);
    }

    /** a.out = dropout(LN(token(ids) + position)) for the pass's rows. */
    void forward(Kernels k, Activations a, int[] ids, boolean training, long seed) {
        int rows = a.rows;
        a.tokenIds = ids;
        embedRows(k, ids, a.positions, rows, a.tokens, a.sum, a.normed, a.normStats.mean(), a.normStats.rstd());
        dropout.forward(k, a.normed, a.out, (long) rows * width, training, seed);
    }

    /**
     * What every path shares: {@code normed} = LN(tokens + positions) for {@code rows} rows (no
     * positions with RoPE or none), the token rows gathered into {@code tokens}, their sum with the position rows into {@code sum}
     * (the LayerNorm input, saved by training). {@code tokens} may be {@code normed}: it is read
     * before the LayerNorm writes.
     */
    private void embedRows(Kernels k, int[] ids, RowPositions positions, int rows, FloatTensor tokens, FloatTensor sum,
                       FloatTensor normed, FloatTensor mean, FloatTensor rstd) {
        k.elementwise().gatherRows(token.value(), vocab, ids, rows, tokens, width);
        if (absolute) {
            gatherPositions(k, positions, rows, sum);
            k.elementwise().add(tokens, sum, sum, (long) rows * width);
        } else {
            java.lang.foreign.MemorySegment.copy(tokens.segment(), 0, sum.segment(), 0, (long) rows * width * Float.BYTES);
        }
        norm.forward(k, sum, normed, rows, mean, rstd);
    }

    /**
     * Incremental decoding: {@code out} (rows, C) = LN(token(tokens[r]) + position(positions[r]))
     * for every row, in evaluation mode. {@code sum} is (rows, C), {@code mean} and {@code rstd} (rows).
     */
    void step(Kernels k, int[] tokens, int rows, RowPositions positions, FloatTensor sum, FloatTensor out,
              FloatTensor mean, FloatTensor rstd) {
        embedRows(k, tokens, positions, rows, out, sum, out, mean, rstd);
    }

    /**
     * The source side of a decoding session: {@code e.x} = LN(token + position) of every source
     * token, in evaluation mode, with the session's buffers ({@code e.normed} as scratch). The
     * same kernel calls as {@link #forward} with dropout off, so the same bits.
     */
    void embed(Kernels k, int[] ids, SourceEncoding e) {
        embedRows(k, ids, e.positions, e.rows, e.x, e.normed, e.x, e.mean, e.rstd);
    }

    /** The parameters' gradients from dOut = dL/d(a.out). */
    void backward(Kernels k, Activations a, FloatTensor dOut, boolean training, long seed) {
        int rows = a.rows;
        dropout.backward(k, dOut, a.dNormed, (long) rows * width, training, seed);
        norm.backward(k, a.sum, a.dNormed, a.dSum, rows, a.normStats);
        k.elementwise().scatterAddRows(a.dSum, a.tokenIds, rows, token.grad(), vocab, width);
        if (position != null) {
            k.elementwise().scatterAddRows(a.dSum, a.positions.ids, rows, position.grad(), maxPositions, width);
        }
    }
}
