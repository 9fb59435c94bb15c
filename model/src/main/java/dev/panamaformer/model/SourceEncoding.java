package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.RowMask;

/**
 * Buffers to run the encoder once, in evaluation mode, over {@code batch} sources of
 * {@code length} tokens, apart from the model's own (training) buffers: a decoding session
 * encodes its sources here, so that sessions on one model can start on many threads at once.
 * The computation is the same kernel calls as the model's forward pass with dropout off, so
 * the output is the same bits.
 *
 * <p>The buffers are sized for up to {@link #batchCapacity} sources of up to
 * {@link #lengthCapacity} tokens; {@link #load} sets the shape of each use, so one instance
 * serves every shape that fits (see {@link DecodingBuffers}).
 */
final class SourceEncoding implements DecodingBuffers.DecodingBuffer {
    private final CountingArena arena;
    final int batchCapacity;
    final int lengthCapacity;
    private final int fusedAttentionFrom;
    private final int heads;
    private final int padId;
    int batch;
    int length;
    int rows;
    boolean fused;              // self-attention takes the fused kernel
    RowMask mask;               // srcMask for every head's query rows
    final RowPositions positions; // (B*S) position id of each row
    final FloatTensor srcMask;  // (B, S) 0 or -inf: source padding, as keys
    final FloatTensor x;        // (B*S, C) the encoder stream
    final FloatTensor normed;   // (B*S, C)
    final FloatTensor sublayer; // (B*S, C)
    final FloatTensor memory;   // (B*S, C) the encoder's output after its final LayerNorm
    final FloatTensor q;        // (B*S, C)
    final FloatTensor k;        // (B*S, C)
    final FloatTensor v;        // (B*S, C)
    final FloatTensor context;  // (B*S, C)
    final FloatTensor scores;   // (B, h, S, S) for the materialized path, (B, h, S) log-sum-exp for the fused one: of the capacity's longest of either
    final FloatTensor hidden;   // (B*S, F)
    final FloatTensor activated; // (B*S, F)
    final FloatTensor mean;     // (B*S)
    final FloatTensor rstd;     // (B*S)

    /** Buffers for up to {@code batchCapacity} sources of up to {@code lengthCapacity} tokens, allocated in {@code arena}. */
    SourceEncoding(TransformerConfig config, int fusedAttentionFrom, int batchCapacity, int lengthCapacity, CountingArena arena) {
        this.arena = arena;
        this.batchCapacity = batchCapacity;
        this.lengthCapacity = lengthCapacity;
        this.fusedAttentionFrom = fusedAttentionFrom;
        this.heads = config.numHeads();
        this.padId = config.padId();
        int c = config.hiddenSize(), rowCapacity = Math.multiplyExact(batchCapacity, lengthCapacity);
        // the longest materialized score block: lengths from fusedAttentionFrom on take the fused kernel
        int materialized = Math.min(lengthCapacity, Math.max(0, fusedAttentionFrom - 1));
        try {
            positions = new RowPositions(rowCapacity);
            srcMask = FloatTensor.allocate(arena, batchCapacity, lengthCapacity);
            x = FloatTensor.allocate(arena, rowCapacity, c);
            normed = FloatTensor.allocate(arena, rowCapacity, c);
            sublayer = FloatTensor.allocate(arena, rowCapacity, c);
            memory = FloatTensor.allocate(arena, rowCapacity, c);
            q = FloatTensor.allocate(arena, rowCapacity, c);
            k = FloatTensor.allocate(arena, rowCapacity, c);
            v = FloatTensor.allocate(arena, rowCapacity, c);
            context = FloatTensor.allocate(arena, rowCapacity, c);
            scores = FloatTensor.allocate(arena, batchCapacity, heads, Math.max(Math.multiplyExact(materialized, materialized),
                    lengthCapacity));
            hidden = FloatTensor.allocate(arena, rowCapacity, config.intermediateSize());
            activated = FloatTensor.allocate(arena, rowCapacity, config.intermediateSize());
            mean = FloatTensor.allocate(arena, rowCapacity);
            rstd = FloatTensor.allocate(arena, rowCapacity);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Whether {@code batch} sources of {@code length} tokens fit these buffers. */
    boolean fits(int batch, int length) {
        return batch <= batchCapacity && length <= lengthCapacity;
    }

    /**
     * Takes the shape of {@code src}, (batch, length) token ids, and lays out its positions
     * ({@code srcPositions}, or 0, 1, ... where null) and padding mask.
     */
    void load(int[] src, int[] srcPositions, int batch, int length) {
        if (!fits(batch, length)) {
            throw new IllegalArgumentException(batch + " x " + length + " sources do not fit buffers of " + batchCapacity
                    + " x " + lengthCapacity);
        }
        this.batch = batch;
        this.length = length;
        this.rows = batch * length;
        this.fused = length >= fusedAttentionFrom;
        positions.set(srcPositions, batch, length);
        for (int i = 0; i < rows; i++) {
            srcMask.set(i, src[i] == padId ? Float.NEGATIVE_INFINITY : 0f);
        }
        mask = RowMask.additive(srcMask, heads * length);
    }

    @Override
    public long bytes() {
        return arena.bytes();
    }

    @Override
    public void close() {
        arena.close();
    }
}
