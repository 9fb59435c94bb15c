package dev.panamaformer.kernels;

import java.lang.foreign.Arena;

/**
 * The angles of rotary position embeddings for positions [0, positions) and heads of
 * {@code headSize} dimensions: {@code cos} and {@code sin} (positions, headSize / 2), element
 * (m, i) of angle {@code (m / positionScale) * base^(-2i / headSize)}. See {@link Rotary}.
 *
 * @param positionScale 1 for the angles as trained; s > 1 is position interpolation (Chen et al.
 *                      2023): positions up to s times the trained length turn no further than the
 *                      trained ones did. NTK-aware scaling is a larger {@code base} instead.
 */
public record RotaryTable(FloatTensor cos, FloatTensor sin, int positions, int headSize, double base, double positionScale) {
    /** RoPE's usual base, as in Su et al. and LLaMA. */
    public static final double BASE = 10_000;

    public RotaryTable {
        checkSizes(positions, headSize);
        if (!(base > 1) || !(positionScale > 0) || Double.isInfinite(base) || Double.isInfinite(positionScale)) {
            throw new IllegalArgumentException("a rotary table needs a finite base > 1 and position scale > 0, got " + base
                    + " and " + positionScale);
        }
        Checks.matrix(cos, "rotary table", "cos", positions, headSize / 2);
        Checks.matrix(sin, "rotary table", "sin", positions, headSize / 2);
    }

    /** The table of {@code positions} positions, in {@code arena}; angles computed in double, then rounded. */
    public static RotaryTable of(Arena arena, int positions, int headSize, double base, double positionScale) {
        checkSizes(positions, headSize);
        int half = headSize / 2;
        float[] cos = new float[Math.multiplyExact(positions, half)], sin = new float[cos.length];
        for (int m = 0; m < positions; m++) {
            for (int i = 0; i < half; i++) {
                double angle = m / positionScale * Math.pow(base, -2.0 * i / headSize);
                cos[m * half + i] = (float) Math.cos(angle);
                sin[m * half + i] = (float) Math.sin(angle);
            }
        }
        return new RotaryTable(FloatTensor.of(arena, cos, positions, half), FloatTensor.of(arena, sin, positions, half), positions,
                headSize, base, positionScale);
    }

    private static void checkSizes(int positions, int headSize) {
        if (positions < 0 || headSize < 2 || headSize % 2 != 0) {
            throw new IllegalArgumentException("a rotary table needs positions >= 0 and an even head size >= 2, got "
                    + positions + " and " + headSize);
        }
    }
}
