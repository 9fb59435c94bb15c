package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp on float vectors from plain arithmetic. The Vector API's own EXP is an intrinsic in C2
 * and a per-lane {@code Math.exp} elsewhere, which round differently: a kernel would give other
 * bits before and after the JIT compiles it. Additions, multiplies, fma and bit operations
 * round the same everywhere, so this exp does not depend on the JIT.
 */
final class SimdMath {
    static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two so that n * LN2_HI is exact for the n that occur. */
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    /** Adding 1.5 * 2^23 rounds a float below 2^22 to an integer held in the low mantissa bits. */
    static final float ROUND = 12582912f;
    static final int ROUND_BITS = 0x4B400000;
    /** Below this exp underflows to 0 even as a subnormal; above the other it overflows. */
    private static final float UNDERFLOW = -103.972084f;
    private static final float OVERFLOW = 88.7228391f;

    private SimdMath() {
    }

    /** e^x within 2 ulp for normal results (Cephes' expf polynomial on [-ln2/2,
            ln2/2]); 0 below -103.97, +inf above 88.72. */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(UNDERFLOW).min(OVERFLOW);
        FloatVector t = clamped.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        IntVector ni = t.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector r = n.mul(-LN2_HI).add(clamped).sub(n.mul(LN2_LO));
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f)
                .fma(r, FloatVector.broadcast(FLOAT, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(FLOAT, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(FLOAT, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(FLOAT, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r.add(1f));
        // 2^n as two factors 2^(n/2) and 2^(n - n/2), each a normal float for n in [-150, 128]
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        // no guards after it: at the lower clamp n = -150 and y < 1, so y 2^-150 rounds to 0; at
        // the upper n = 128 and y >= 1, so y 2^128 overflows to +inf; max and min carry a NaN
        // through (every float checked against guarded code: bench/README.md, 2026-12-08)
        return y.mul(s1).mul(s2);
    }

    /** Below this, {@link #expNonPositive} gives 0: e^x would be subnormal. */
    static final float SMALLEST_NORMAL_EXP = -87.33654f;

    /**
     * e^x for x <= 0, as softmax needs it after subtracting the max: {@link #exp}'s polynomial
     * with one clamp, and 0 (not a subnormal) below -87.34, so that 2^n is one factor. A few
     * vector operations fewer than {@link #exp}; on this kernel's hardware a 512-bit operation
     * issues at most once per cycle, so each one saved is time.
     */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector clamped = x.max(SMALLEST_NORMAL_EXP);
        FloatVector t = clamped.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        IntVector ni = t.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector r = n.mul(-LN2_HI).add(clamped).sub(n.mul(LN2_LO));
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f)
                .fma(r, FloatVector.broadcast(FLOAT, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(FLOAT, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(FLOAT, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(FLOAT, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r.add(1f));
        FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale).blend(0f, x.compare(VectorOperators.LT, SMALLEST_NORMAL_EXP));
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(FLOAT, 1f).div(exp(x.neg()).add(1f));
    }
}
