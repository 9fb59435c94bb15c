package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.foreign.Arena;

/** Token embedding plus position encoding, then LayerNorm, then dropout. */
final class Embeddings {
    private final Parameter token;      // (V, C)
    private final Parameter position;   // (P, C) when learned, else null
    private final FloatTensor sinusoid; // (P, C) fixed encodings of the paper, else null
    private final Norm norm;
    private final DropoutSite dropout;
    private final int vocab;
    private final int width;
    private final int maxPositions;

    private int rows;
    private int[] positionIds;  // (B*T): t for row b*T + t
    private int[] tokenIds;     // (B*T): the ids of the last forward, saved for backward
    private FloatTensor tokens; // (B*T, C)
    private FloatTensor sum;    // (B*T, C) tokens + positions, the LayerNorm input saved for backward
    private FloatTensor normed; // (B*T, C) LayerNorm output, the dropout input
    FloatTensor out;            // (B*T, C)
    private FloatTensor dNormed; // (B*T, C)
    private FloatTensor dSum;    // (B*T, C)

    Embeddings(Parameters params, Arena arena, String name, TransformerConfig config, int vocab, long dropoutSite) {
        this.vocab = vocab;
        this.width = config.hiddenSize();
        this.maxPositions = config.maxPositions();
        this.token = params.create(name + ".token.weight", Parameter.Init.XAVIER, vocab, width);
        if (config.positions() == TransformerConfig.Positions.LEARNED) {
            this.position = params.create(name + ".position.weight", Parameter.Init.XAVIER, maxPositions, width);
            this.sinusoid = null;
        } else {
            this.position = null;
            this.sinusoid = sinusoids(arena, maxPositions, width);
        }
        this.norm = new Norm(params, name + ".norm", width, config.layerNormEps());
        this.dropout = new DropoutSite(config.dropout(), dropoutSite);
    }

    /** PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). */
    static FloatTensor sinusoids(Arena arena, int positions, int width) {
        float[] table = new float[positions * width];
        for (int pos = 0; pos < positions; pos++) {
            for (int i = 0; i < width; i++) {
                double angle = pos / Math.pow(10000, (i - i % 2) / (double) width);
                table[pos * width + i] = (float) (i % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
            }
        }
        return FloatTensor.of(arena, table, positions, width);
    }

    void allocate(Workspace ws, String name, int batch, int length) {
        rows = batch * length;
        positionIds = new int[rows];
        for (int r = 0; r < rows; r++) {
            positionIds[r] = r % length;
        }
        tokens = ws.activation(name + ".tokens", rows, width);
        sum = ws.activation(name + ".sum", rows, width);
        normed = ws.activation(name + ".normed", rows, width);
        out = ws.activation(name + ".out", rows, width);
        norm.allocate(ws, name + ".norm", rows);
        dNormed = ws.gradient(rows, width);
        dSum = ws.gradient(rows, width);
    }

    void forward(Kernels k, int[] ids, boolean training, long seed) {
        tokenIds = ids;
        k.elementwise().gatherRows(token.value(), vocab, ids, rows, tokens, width);
        k.elementwise().gatherRows(position != null ? position.value() : sinusoid, maxPositions, positionIds, rows, sum, width);
        k.elementwise().add(tokens, sum, sum, (long) rows * width);
        norm.forward(k, sum, normed, rows);
        dropout.forward(k, normed, out, (long) rows * width, training, seed);
    }

    /**
     * Incremental decoding: {@code out} (rows, C) = LN(token(tokens[r]) + position(pos)) for
     * every row, in evaluation mode. {@code positions} is (rows) ints of scratch, {@code sum} is
     * (rows, C), {@code mean} and {@code rstd} (rows).
     */
    void step(Kernels k, int[] tokens, int rows, int pos, int[] positions, FloatTensor sum, FloatTensor out,
              FloatTensor mean, FloatTensor rstd) {
        java.util.Arrays.fill(positions, 0, rows, pos);
        k.elementwise().gatherRows(token.value(), vocab, tokens, rows, out, width);
        k.elementwise().gatherRows(position != null ? position.value() : sinusoid, maxPositions, positions, rows, sum, width);
        k.elementwise().add(out, sum, sum, (long) rows * width);
        norm.apply(k, sum, out, rows, mean, rstd);
    }

    void backward(Kernels k, FloatTensor dOut, boolean training, long seed) {
        dropout.backward(k, dOut, dNormed, (long) rows * width, training, seed);
        norm.backward(k, sum, dNormed, dSum, rows);
        k.elementwise().scatterAddRows(dSum, tokenIds, rows, token.grad(), vocab, width);
        if (position != null) {
            k.elementwise().scatterAddRows(dSum, positionIds, rows, position.grad(), maxPositions, width);
        }
    }
}
