package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.RowMask;
import java.lang.foreign.Arena;

/**
 * Buffers to run the encoder once, in evaluation mode, over {@code batch} sources of
 * {@code length} tokens, apart from the model's own (training) buffers: a decoding session
 * encodes its sources here, so that sessions on one model can start on many threads at once.
 * The computation is the same kernel calls as the model's forward pass with dropout off, so
 * the output is the same bits.
 */
final class SourceEncoding implements AutoCloseable {
    private final Arena arena = Arena.ofShared(); // shared: the kernels may split the work across threads
    final int batch;
    final int length;
    final int rows;
    final boolean fused;        // self-attention takes the fused kernel
    final int[] positions;      // (B*S) position of each row
    final FloatTensor srcMask;  // (B, S) 0 or -inf: source padding, as keys
    final RowMask mask;         // srcMask for every head's query rows
    final FloatTensor x;        // (B*S, C) the encoder stream
    final FloatTensor normed;   // (B*S, C)
    final FloatTensor sublayer; // (B*S, C)
    final FloatTensor memory;   // (B*S, C) the encoder's output after its final LayerNorm
    final FloatTensor q;        // (B*S, C)
    final FloatTensor k;        // (B*S, C)
    final FloatTensor v;        // (B*S, C)
    final FloatTensor context;  // (B*S, C)
    final FloatTensor scores;   // (B, h, S, S) materialized path, else (B, h, S) log-sum-exp of the fused one
    final FloatTensor hidden;   // (B*S, F)
    final FloatTensor activated; // (B*S, F)
    final FloatTensor mean;     // (B*S)
    final FloatTensor rstd;     // (B*S)

    SourceEncoding(TransformerConfig config, int fusedAttentionFrom, int[] src, int batch, int length) {
        this.batch = batch;
        this.length = length;
        this.rows = batch * length;
        this.fused = length >= fusedAttentionFrom;
        int c = config.hiddenSize(), h = config.numHeads();
        try {
            positions = new int[rows];
            for (int r = 0; r < rows; r++) {
                positions[r] = r % length;
            }
            srcMask = FloatTensor.allocate(arena, batch, length);
            for (int i = 0; i < src.length; i++) {
                srcMask.set(i, src[i] == config.padId() ? Float.NEGATIVE_INFINITY : 0f);
            }
            mask = RowMask.additive(srcMask, h * length);
            x = FloatTensor.allocate(arena, rows, c);
            normed = FloatTensor.allocate(arena, rows, c);
            sublayer = FloatTensor.allocate(arena, rows, c);
            memory = FloatTensor.allocate(arena, rows, c);
            q = FloatTensor.allocate(arena, rows, c);
            k = FloatTensor.allocate(arena, rows, c);
            v = FloatTensor.allocate(arena, rows, c);
            context = FloatTensor.allocate(arena, rows, c);
            scores = fused ? FloatTensor.allocate(arena, batch, h, length) : FloatTensor.allocate(arena, batch, h, length, length);
            hidden = FloatTensor.allocate(arena, rows, config.intermediateSize());
            activated = FloatTensor.allocate(arena, rows, config.intermediateSize());
            mean = FloatTensor.allocate(arena, rows);
            rstd = FloatTensor.allocate(arena, rows);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
