package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.PositionBias;
import dev.panamaformer.kernels.RowMask;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The state of incremental decoding for a number of rows (sequences being generated): per
 * decoder layer the self-attention keys and values of every position so far and the
 * cross-attention keys and values of the row's source, plus scratch for one step.
 *
 * <p>The buffers are sized for up to {@link #rowCapacity} rows, {@link #positionCapacity}
 * positions and sources of {@link #sourceCapacity} tokens; {@link #reset} sets the shape of each
 * use, and every layout below ((R, capacity, C) and so on) is of that shape, so one instance
 * serves every shape that fits (see {@link DecodingBuffers}).
 */
final class DecoderCache implements DecodingBuffers.DecodingBuffer {
    /** One decoder layer's cached keys and values. */
    static final class Layer {
        final FloatTensor selfKeys;    // (R, capacity, C)
        final FloatTensor selfValues;  // (R, capacity, C)
        final FloatTensor crossKeys;   // (R, S, C)
        final FloatTensor crossValues; // (R, S, C)

        Layer(Arena arena, int rows, int capacity, int srcLength, int width) {
            selfKeys = FloatTensor.allocate(arena, rows, capacity, width);
            selfValues = FloatTensor.allocate(arena, rows, capacity, width);
            crossKeys = FloatTensor.allocate(arena, rows, srcLength, width);
            crossValues = FloatTensor.allocate(arena, rows, srcLength, width);
        }
    }

    private final CountingArena arena;
    final int rowCapacity;
    final int positionCapacity;
    final int sourceCapacity;
    final int width;
    int rows;
    int capacity;
    int srcLength;
    /** The model's weights version when this cache was filled: its keys and values are of those weights. */
    long weightsVersion;
    final Layer[] layers;
    /** The cross-attention mask of a step: {@link #srcMask}, with cross-attention's position bias where the model has one (see {@link #useCrossBias}). */
    RowMask crossMask;
    private final RowMask crossPadding;
    private int[] crossKeyIds;  // (R, S) the position id of each row's source tokens, for a position bias
    /** The self-attention mask of a step: {@link #selfMask}, with the decoder's position bias where it has one (see {@link #useSelfBias}). */
    RowMask selfRowMask;
    private final RowMask selfPadding;
    private int[] selfKeyIds;   // (R, capacity) the position id of each row's step j: targetStart + j, for a position bias
    final FloatTensor srcMask;  // (R, S) 0 or -inf
    final FloatTensor x;        // (R, C) the decoder stream
    final FloatTensor normed;   // (R, C)
    final FloatTensor sublayer; // (R, C)
    final FloatTensor query;    // (R, C)
    final FloatTensor context;  // (R, C)
    final FloatTensor scores;   // (R * h * max(capacity, S))
    final FloatTensor hidden;   // (R, F)
    final FloatTensor activated; // (R, F)
    final FloatTensor mean;     // (R)
    final FloatTensor rstd;     // (R)
    final FloatTensor logits;   // (R, V)
    final FloatTensor logProbs; // (R, V)
    final RowPositions positions; // (R) the position id of each row's current step: targetStart + step
    final int[] targetStart;    // (R) the position id of each row's first step
    final int[] fed;            // (R, capacity) the tokens fed so far, for the target padding mask
    final FloatTensor selfMask; // (R, keys) 0 or -inf, rebuilt each step: fed padding is masked as in training
    private final int padId;
    private FloatTensor swap; // (R, capacity, C) for reordering beams, made on the first reorder
    private int[] fedSwap;    // a copy of fed, for the same

    /** A cache of exactly {@code rows} x {@code capacity} positions over sources of {@code srcLength}, allocated in {@code arena}. */
    DecoderCache(TransformerConfig config, int rows, int capacity, int srcLength, long weightsVersion, CountingArena arena) {
        this.arena = arena;
        this.rowCapacity = rows;
        this.positionCapacity = capacity;
        this.sourceCapacity = srcLength;
        this.width = config.hiddenSize();
        try {
            layers = new Layer[config.numLayers()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = new Layer(arena, rows, capacity, srcLength, width);
            }
            srcMask = FloatTensor.allocate(arena, rows, srcLength);
            crossPadding = RowMask.additive(srcMask, config.numHeads());
            crossMask = crossPadding;
            x = FloatTensor.allocate(arena, rows, width);
            normed = FloatTensor.allocate(arena, rows, width);
            sublayer = FloatTensor.allocate(arena, rows, width);
            query = FloatTensor.allocate(arena, rows, width);
            context = FloatTensor.allocate(arena, rows, width);
            scores = FloatTensor.allocate(arena, rows * config.numHeads() * Math.max(capacity, srcLength));
            hidden = FloatTensor.allocate(arena, rows, config.intermediateSize());
            activated = FloatTensor.allocate(arena, rows, config.intermediateSize());
            mean = FloatTensor.allocate(arena, rows);
            rstd = FloatTensor.allocate(arena, rows);
            logits = FloatTensor.allocate(arena, rows, config.tgtVocabSize());
            logProbs = FloatTensor.allocate(arena, rows, config.tgtVocabSize());
            positions = new RowPositions(rows);
            targetStart = new int[rows];
            fed = new int[rows * capacity];
            selfMask = FloatTensor.allocate(arena, rows, capacity);
            padId = config.padId();
            selfPadding = RowMask.additive(selfMask, config.numHeads());
            selfRowMask = selfPadding;
        } catch (RuntimeException | Error e) {
            arena.close(); // nothing the caller could close was returned
            throw e;
        }
        reset(rows, capacity, srcLength, weightsVersion);
    }

    /** Whether a use of {@code rows} x {@code capacity} positions over sources of {@code srcLength} fits these buffers. */
    boolean fits(int rows, int capacity, int srcLength) {
        return rows <= rowCapacity && capacity <= positionCapacity && srcLength <= sourceCapacity;
    }

    /** Takes the shape of a new use; the contents of every buffer are left to be overwritten. */
    void reset(int rows, int capacity, int srcLength, long weightsVersion) {
        if (!fits(rows, capacity, srcLength)) {
            throw new IllegalArgumentException(rows + " rows x " + capacity + " positions over sources of " + srcLength
                    + " do not fit a cache of " + rowCapacity + " x " + positionCapacity + " over " + sourceCapacity);
        }
        this.rows = rows;
        this.capacity = capacity;
        this.srcLength = srcLength;
        this.weightsVersion = weightsVersion;
    }

    /**
     * The decoder's position bias table for this use (null: none), after {@link #targetStart} is
     * set: the self-attention of a step then adds it by the distance between the step's id and
     * each cached step's.
     */
    void useSelfBias(FloatTensor table) {
        if (table == null) {
            selfRowMask = selfPadding;
            return;
        }
        if (selfKeyIds == null || selfKeyIds.length < rows * capacity) {
            selfKeyIds = new int[rowCapacity * positionCapacity];
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < capacity; j++) {
                selfKeyIds[r * capacity + j] = targetStart[r] + j;
            }
        }
        selfRowMask = selfPadding.withBias(new PositionBias(table, 1, positions.ids, selfKeyIds, capacity));
    }

    /**
     * Cross-attention's position bias table for this use (null: none): a step's query at its id
     * against the ids of its source's tokens, {@code srcIds} (B, S) for the B sources whose
     * rows come {@code beams} to a source.
     */
    void useCrossBias(FloatTensor table, int[] srcIds, int beams) {
        if (table == null) {
            crossMask = crossPadding;
            return;
        }
        if (crossKeyIds == null || crossKeyIds.length < rows * srcLength) {
            crossKeyIds = new int[rowCapacity * sourceCapacity];
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(srcIds, r / beams * srcLength, crossKeyIds, r * srcLength, srcLength);
        }
        crossMask = crossPadding.withBias(new PositionBias(table, 1, positions.ids, crossKeyIds, srcLength));
    }

    /**
     * Records this step's tokens, sets each row's position id (its start plus {@code pos}) and
     * lays out the self-attention mask of keys [0, pos] as (R, pos + 1).
     */
    void feed(int[] tokens, int pos) {
        int keys = pos + 1;
        positions.shifted(targetStart, pos, rows);
        for (int r = 0; r < rows; r++) {
            fed[r * capacity + pos] = tokens[r];
            for (int j = 0; j < keys; j++) {
                selfMask.set((long) r * keys + j, fed[r * capacity + j] == padId ? Float.NEGATIVE_INFINITY : 0f);
            }
        }
    }

    /**
     * Row {@code r} of {@code dst} (R, len, C) := row {@code source[r]} of {@code src} (n, len, C),
     * for the first {@code len} positions.
     */
    static void gatherRows(FloatTensor src, FloatTensor dst, int[] source, int rowStride, int len, int width) {
        long rowBytes = (long) rowStride * width * Float.BYTES, bytes = (long) len * width * Float.BYTES;
        for (int r = 0; r < source.length; r++) {
            MemorySegment.copy(src.segment(), source[r] * rowBytes, dst.segment(), r * rowBytes, bytes);
        }
    }

    /** Row {@code r} of {@code dst} (rows, len, C) := row {@code r / repeat} of {@code src} (rows / repeat, len, C). */
    static void gatherRows(FloatTensor src, FloatTensor dst, int rows, int repeat, int len, int width) {
        long bytes = (long) len * width * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(src.segment(), r / repeat * bytes, dst.segment(), r * bytes, bytes);
        }
    }

    /** Beam search: row r continues the hypothesis of row {@code parents[r]}; positions [0, length) of the self caches follow. */
    void reorder(int[] parents, int length) {
        if (swap == null) {
            // greedy decoding and sampling never need them
            swap = FloatTensor.allocate(arena, rowCapacity, positionCapacity, width);
            fedSwap = new int[fed.length];
        }
        System.arraycopy(fed, 0, fedSwap, 0, rows * capacity);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(fedSwap, parents[r] * capacity, fed, r * capacity, length);
        }
        long rowBytes = (long) capacity * width * Float.BYTES, bytes = (long) length * width * Float.BYTES;
        for (Layer layer : layers) {
            reorder(layer.selfKeys, parents, length, rowBytes, bytes);
            reorder(layer.selfValues, parents, length, rowBytes, bytes);
        }
    }

    /** The first {@code bytes} of row r of {@code cache} := those of row {@code parents[r]}, through {@link #swap}. */
    private void reorder(FloatTensor cache, int[] parents, int length, long rowBytes, long bytes) {
        gatherRows(cache, swap, parents, capacity, length, width);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(swap.segment(), r * rowBytes, cache.segment(), r * rowBytes, bytes);
        }
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
