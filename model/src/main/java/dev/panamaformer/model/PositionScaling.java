package dev.panamaformer.model;

import dev.panamaformer.kernels.RotaryTable;

/**
 * How decoding reaches positions past those a model was trained on: not at all (the default), by
 * position interpolation, or by NTK-aware scaling. A decoding session started for positions within
 * {@link #trainedLength} (its sources, its targets' first ids and its capacity of steps) computes
 * exactly what it would without scaling; one started for {@code n > trainedLength} positions, even
 * if it ends sooner, squeezes them into the trained range by the factor
 * {@code s = n / trainedLength}, fixed for the whole session (its position tables are built
 * when it starts):
 * <ul>
 *   <li>{@link Method#LINEAR}, position interpolation (Chen et al. 2023, "Extending context window
 *       of large language models via positional interpolation"): RoPE turns position m by the
 *       angles of m / s; sinusoids are taken at m / s; a learned table is read between its rows,
 *       at m (L - 1) / (n - 1) for L trained positions, interpolated linearly, so that the first
 *       and last positions keep their trained rows;</li>
 *   <li>{@link Method#NTK} (RoPE only), NTK-aware scaling (bloc97, 2023): the base of RoPE's
 *       frequencies grows to {@code base * s^(d / (d - 2))} for heads of d dimensions, so that
 *       the fastest pairs turn as trained while the slowest are interpolated.</li>
 * </ul>
 * Training never scales. The option is a {@link RunOptions} component, not part of the model:
 * it changes nothing inside the trained length.
 *
 * @param method        what to do past {@code trainedLength}
 * @param trainedLength positions the model was trained on (at most its {@code max_position_embeddings})
 * @param maxLength     the most positions a session may use with scaling (where it is below the
 *                      model's {@code max_position_embeddings}, those remain the limit)
 */
public record PositionScaling(Method method, int trainedLength, int maxLength) {
    /** What decoding does with positions past the trained length. */
    public enum Method {
        /** Nothing: a session stays within the model's {@code max_position_embeddings}. */
        NONE,
        /** Position interpolation: positions scaled down into the trained range. */
        LINEAR,
        /** NTK-aware scaling of RoPE's base. */
        NTK
    }

    /** No scaling: sessions stay within the model's positions. */
    public static final PositionScaling NONE = new PositionScaling(Method.NONE, 0, 0);

    public PositionScaling {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null (Method.NONE for no scaling)");
        }
        if (method != Method.NONE && (trainedLength < 2 || maxLength < trainedLength)) {
            throw new IllegalArgumentException("position scaling needs a trained length of at least 2 and a maximum length"
                    + " at least as long, got " + trainedLength + " and " + maxLength);
        }
    }

    /** Position interpolation from {@code trainedLength} up to {@code maxLength} positions. */
    public static PositionScaling linear(int trainedLength, int maxLength) {
        return new PositionScaling(Method.LINEAR, trainedLength, maxLength);
    }

    /** NTK-aware scaling of RoPE from {@code trainedLength} up to {@code maxLength} positions. */
    public static PositionScaling ntk(int trainedLength, int maxLength) {
        return new PositionScaling(Method.NTK, trainedLength, maxLength);
    }

    /** Throws an IllegalArgumentException unless this scaling applies to a model of {@code config}. */
    void checkFor(TransformerConfig config) {
        if (method == Method.NONE) {
            return;
        }
        TransformerConfig.Positions p = config.positions();
        boolean rope = p == TransformerConfig.Positions.ROPE || p == TransformerConfig.Positions.ROPE_CROSS;
        if (method == Method.NTK && !rope) {
            throw new IllegalArgumentException("NTK-aware scaling changes RoPE's base; this model's positions are "
                    + p.name().toLowerCase(java.util.Locale.ROOT) + " (position interpolation, Method.LINEAR, applies to learned,"
                    + " sinusoidal and rope)");
        }
        if (p == TransformerConfig.Positions.NONE) {
            throw new IllegalArgumentException("a model without positions has nothing to interpolate: decode it without scaling");
        }
        if (p == TransformerConfig.Positions.T5 || p == TransformerConfig.Positions.T5_CROSS || p == TransformerConfig.Positions.ALIBI) {
            throw new IllegalArgumentException(p.name().toLowerCase(java.util.Locale.ROOT) + " positions are a bias by distance,"
                    + " which covers any distance as it is (T5 clamps at 128, ALiBi grows linearly): decode without scaling, with"
                    + " max_position_embeddings as large as needed (it sizes no table of these types)");
        }
        if (trainedLength > config.maxPositions()) {
            throw new IllegalArgumentException("trained length " + trainedLength + " exceeds the model's " + config.maxPositions()
                    + " positions");
        }
    }

    /**
     * What to add to a decoding session's error about too many positions: how to decode further,
     * where this scaling is {@link #NONE} and the model's positions can be scaled; else nothing.
     */
    String hint(TransformerConfig config) {
        TransformerConfig.Positions p = config.positions();
        if (method != Method.NONE || p == TransformerConfig.Positions.NONE) {
            return "";
        }
        if (p == TransformerConfig.Positions.T5 || p == TransformerConfig.Positions.T5_CROSS || p == TransformerConfig.Positions.ALIBI) {
            return "; " + p.name().toLowerCase(java.util.Locale.ROOT) + " positions cost nothing per position: give the"
                    + " config a larger max_position_embeddings to decode further";
        }
        return "; to decode further, interpolate positions: RunOptions.withPositionScaling(PositionScaling.linear(trained length,"
                + " longest))" + (p == TransformerConfig.Positions.ROPE || p == TransformerConfig.Positions.ROPE_CROSS
                        ? " or PositionScaling.ntk(...)" : "");
    }

    /** The most positions a session of a model of {@code config} may use. */
    int limit(TransformerConfig config) {
        return method == Method.NONE ? config.maxPositions() : Math.max(maxLength, config.maxPositions());
    }

    /** Whether a session over positions [0, {@code needed}) is scaled at all. */
    boolean scales(int needed) {
        return method != Method.NONE && needed > trainedLength;
    }

    /**
     * RoPE's angles for a scaled session of {@code needed} positions and heads of
     * {@code headSize}: the position scale multiplied by s (interpolation), or the base raised
     * (NTK-aware).
     */
    RotaryTable rotary(java.lang.foreign.Arena arena, int needed, int headSize, double ropeScale) {
        double s = needed / (double) trainedLength;
        return method == Method.NTK
                ? RotaryTable.of(arena, needed, headSize, ntkBase(RotaryTable.BASE, s, headSize), ropeScale)
                : RotaryTable.of(arena, needed, headSize, RotaryTable.BASE, ropeScale * s);
    }

    /** NTK-aware scaling's base: {@code base * s^(d / (d - 2))} (for d = 2 the base is left as it is). */
    static double ntkBase(double base, double s, int headSize) {
        return headSize <= 2 ? base : base * Math.pow(s, headSize / (headSize - 2.0));
    }
}
