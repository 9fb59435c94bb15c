package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import java.lang.foreign.Arena;

/**
 * The position bias of one stack's self-attention, added to the scores of every layer and head
 * by the distance between a key's and a query's position ids (see
 * {@link dev.panamaformer.kernels.PositionBias}); the kernels read it as a dense
 * (heads, 2·span + 1) table over distances -span..span.
 *
 * <p>{@code T5} (Raffel et al. 2020): a learned scalar per head and bucket of distance, shared by
 * the layers of the stack as T5 shares it, the buckets as Hugging Face's
 * {@code _relative_position_bucket} draws them: 32 buckets, distances below 8 (bidirectional:
 * 8 per side) one bucket each, then log-spaced up to 128, beyond which all share the last. The
 * encoder's buckets tell the two sides apart; the decoder's (causal) see only keys at or before
 * the query. The parameter is named {@code encoder.relative_attention_bias} or
 * {@code decoder.relative_attention_bias}, (32, heads), as T5's embedding stores it.
 *
 * <p>{@code ALIBI} (Press et al. 2022): {@code -m_h·|distance|}, fixed, with the paper's slopes
 * m_h (for 4 heads 1/4, 1/16, 1/64, 1/256); in the encoder keys after the query take the slopes
 * in reverse head order (see {@link #alibi}). Its table covers the distances in use and grows
 * with them, as RoPE's angles do.
 *
 * <p>A window ({@link TransformerConfig#attentionWindow} w > 0, with a position type that has
 * no bias of its own): 0 for distances -w..w and {@link TransformerConfig#OUT_OF_WINDOW}
 * beyond, in every attention of the model, cross-attention included. Its table spans w + 1, the
 * kernels clamping every longer distance to an end of it.
 */
final class RelativeBias {
    static final int T5_BUCKETS = 32;
    static final int T5_MAX_DISTANCE = 128;

    private final int heads;
    private final boolean bidirectional;
    private final Parameter buckets;                      // T5: (32, heads); ALiBi: null
    private final GrowingTable<FloatTensor> fixedTable;   // ALiBi: tables covering ids below their rows; a window: one table
    private final int[] bucketOf;                         // T5: the bucket of distance d at d + 128, else null

    private RelativeBias(int heads, boolean bidirectional, Parameter buckets, GrowingTable<FloatTensor> fixedTable) {
        this.heads = heads;
        this.bidirectional = bidirectional;
        this.buckets = buckets;
        this.fixedTable = fixedTable;
        this.bucketOf = buckets == null ? null : new int[2 * T5_MAX_DISTANCE + 1];
        for (int d = -T5_MAX_DISTANCE; buckets != null && d <= T5_MAX_DISTANCE; d++) {
            bucketOf[d + T5_MAX_DISTANCE] = bucket(d, bidirectional);
        }
    }

    /** The bias of the encoder's self-attention for {@code config}'s position type (T5, T5_CROSS, ALIBI) or window, else null. */
    static RelativeBias forEncoder(Parameters params, Arena arena, TransformerConfig config) {
        return switch (config.positions()) {
            case T5, T5_CROSS -> t5(params, "encoder", config.numHeads(), true);
            case ALIBI -> alibi(arena, config.numHeads(), config.maxPositions(), true);
            default -> window(arena, config);
        };
    }

    /** The bias of the decoder's (causal) self-attention for {@code config}'s position type or window, else null. */
    static RelativeBias forDecoder(Parameters params, Arena arena, TransformerConfig config) {
        return switch (config.positions()) {
            case T5, T5_CROSS -> t5(params, "decoder", config.numHeads(), false);
            case ALIBI -> alibi(arena, config.numHeads(), config.maxPositions(), false);
            default -> window(arena, config);
        };
    }

    /**
     * The bias of cross-attention, target ids against source ids: T5_CROSS's learned one (both
     * sides apart), or the window, else null.
     */
    static RelativeBias forCrossAttention(Parameters params, Arena arena, TransformerConfig config) {
        return config.positions() == TransformerConfig.Positions.T5_CROSS ? t5(params, "decoder.cross", config.numHeads(), true)
                : window(arena, config);
    }

    /** {@code config}'s attention window as a fixed bias, or null where it has none (0). */
    static RelativeBias window(Arena arena, TransformerConfig config) {
        int w = config.attentionWindow(), heads = config.numHeads();
        if (w == 0) {
            return null;
        }
        int span = w + 1, width = 2 * span + 1;
        FloatTensor t = FloatTensor.allocate(arena, heads, width);
        for (int h = 0; h < heads; h++) {
            for (int d = -span; d <= span; d++) {
                t.set((long) h * width + span + d, Math.abs(d) <= w ? 0f : TransformerConfig.OUT_OF_WINDOW);
            }
        }
        // one table for every id: distances beyond the span are clamped to its ends, out of the window
        return new RelativeBias(heads, true, null, new GrowingTable<>(1, rows -> t, table -> Integer.MAX_VALUE));
    }

    /** T5's learned bias of one stack, its parameter created in {@code params} under {@code stack + ".relative_attention_bias"}. */
    static RelativeBias t5(Parameters params, String stack, int heads, boolean bidirectional) {
        Parameter p = params.create(stack + ".relative_attention_bias", Parameter.Init.XAVIER, T5_BUCKETS, heads);
        return new RelativeBias(heads, bidirectional, p, null);
    }

    /**
     * ALiBi's fixed bias, for ids below {@code maxPositions}: {@code -m_h·|distance|} for keys at
     * or before the query. {@code bidirectional} (the encoder): keys after the query get the
     * slopes of the heads in reverse order, {@code -m_(heads-1-h)·distance}. A symmetric bias
     * would leave the encoder unable to tell a source from its reverse (its outputs would be the
     * same set, and cross-attention has no positions), so no decoder could copy; with the slopes
     * reversed, a head that looks back steeply looks ahead gently and the two directions differ
     * in every head but the middle one of an odd count (with one head, they cannot).
     */
    static RelativeBias alibi(Arena arena, int heads, int maxPositions, boolean bidirectional) {
        float[] slopes = alibiSlopes(heads);
        GrowingTable<FloatTensor> tables = new GrowingTable<>(maxPositions, rows -> {
            int span = Math.max(1, rows - 1), width = 2 * span + 1;
            FloatTensor t = FloatTensor.allocate(arena, heads, width);
            for (int h = 0; h < heads; h++) {
                float ahead = bidirectional ? slopes[heads - 1 - h] : slopes[h];
                for (int d = -span; d <= span; d++) {
                    t.set((long) h * width + span + d, d > 0 ? -ahead * d : -slopes[h] * -d);
                }
            }
            return t;
        }, t -> t.dim(1) / 2 + 1);
        return new RelativeBias(heads, bidirectional, null, tables);
    }

    /**
     * The ALiBi paper's slopes: for n heads, a power of 2, the geometric sequence 2^(-8/n),
     * 2^(-16/n), ..., 2^(-8); otherwise those of the largest power of 2 below n, then every other
     * one of twice that power for the rest.
     */
    static float[] alibiSlopes(int heads) {
        int closest = Integer.highestOneBit(heads);
        float[] slopes = new float[heads];
        for (int i = 0; i < closest; i++) {
            slopes[i] = (float) Math.pow(2, -8.0 * (i + 1) / closest);
        }
        for (int i = closest; i < heads; i++) {
            slopes[i] = (float) Math.pow(2, -8.0 * (2 * (i - closest) + 1) / (2 * closest));
        }
        return slopes;
    }

    /**
     * T5's bucket of a distance {@code key - query}, as {@code _relative_position_bucket} of
     * Hugging Face's T5 computes it, in float as it does.
     */
    static int bucket(int distance, boolean bidirectional) {
        int numBuckets = T5_BUCKETS, bucket = 0;
        long n;
        if (bidirectional) {
            numBuckets /= 2;
            bucket += distance > 0 ? numBuckets : 0;
            n = Math.abs((long) distance);
        } else {
            n = -Math.min((long) distance, 0);
        }
        int maxExact = numBuckets / 2;
        if (n < maxExact) {
            return bucket + (int) n;
        }
        float logRatio = (float) Math.log((float) n / maxExact);
        float scaled = logRatio / (float) Math.log((double) T5_MAX_DISTANCE / maxExact) * (numBuckets - maxExact);
        return bucket + Math.min(maxExact + (int) scaled, numBuckets - 1);
    }

    /** Whether the bias is learned (T5), with a gradient. */
    boolean learned() {
        return buckets != null;
    }

    /** Its parameter (T5), or null. */
    Parameter parameter() {
        return buckets;
    }

    int heads() {
        return heads;
    }

    /** ALiBi's dense table, exact for every distance between ids below {@code bound}, or the window's; shared, never written once built. */
    FloatTensor table(int bound) {
        if (learned()) {
            throw new IllegalStateException("a T5 bias has no shared table: fill one of your own (fill)");
        }
        return fixedTable.covering(bound);
    }

    /** Columns of a T5 dense table: distances -128..128. */
    static int t5Width() {
        return 2 * T5_MAX_DISTANCE + 1;
    }

    /**
     * A decoding session's dense table: ALiBi's or the window's shared one; for T5 a table of the session's
     * own, from the buckets' values as they are now (so weights loaded or written by hand count,
     * and sessions on many threads write nothing shared).
     */
    FloatTensor sessionTable(int bound) {
        if (!learned()) {
            return fixedTable.covering(bound);
        }
        FloatTensor t = FloatTensor.allocate(Arena.ofAuto(), heads, t5Width());
        fill(t);
        return t;
    }

    /**
     * T5: {@code table} (heads, {@link #t5Width()}) := the dense table of the buckets' current
     * values. A training pass fills a table of its own, so its backward pass and the attention
     * probabilities it gives on request read the bias its forward pass used.
     */
    void fill(FloatTensor table) {
        FloatTensor values = buckets.value();
        int span = T5_MAX_DISTANCE, width = 2 * span + 1;
        for (int d = -span; d <= span; d++) {
            int b = bucketOf[d + span];
            for (int h = 0; h < heads; h++) {
                table.set((long) h * width + span + d, values.get((long) b * heads + h));
            }
        }
    }

    /** T5: adds the gradient of the dense table to the buckets' gradient, bucket by bucket in order of distance. */
    void backward(FloatTensor dTable) {
        FloatTensor grad = buckets.grad();
        int span = T5_MAX_DISTANCE, width = 2 * span + 1;
        for (int d = -span; d <= span; d++) {
            int b = bucketOf[d + span];
            for (int h = 0; h < heads; h++) {
                long g = (long) b * heads + h;
                grad.set(g, grad.get(g) + dTable.get((long) h * width + span + d));
            }
        }
    }
}
