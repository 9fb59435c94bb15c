package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * {@link SimdMath#exp} against {@link Math#exp}: within 2 ulp where e^x is a normal float, 0 where
 * it underflows, +inf where it overflows, NaN for NaN. Its clamps alone give the 0, +inf and NaN
 * (no compare-and-blend after them), so the bounds are checked here one float either side.
 */
@AddLifecycleHook(SimdOnly.class)
class SimdMathTest {
    private static final float UNDERFLOW = -103.972084f;
    private static final float OVERFLOW = 88.7228391f;

    @Property(tries = 2000)
    void expIsWithinTwoUlpOfMathExp(@ForAll("floats") float x) {
        float got = exp(x);
        if (Float.isNaN(x)) {
            assertTrue(Float.isNaN(got), "exp(NaN) = " + got);
        } else if (x < UNDERFLOW) {
            assertEquals(0f, got, "exp(" + x + ")");
        } else if (x > OVERFLOW) {
            assertEquals(Float.POSITIVE_INFINITY, got, "exp(" + x + ")");
        } else {
            double want = Math.exp(x);
            if (want >= Float.MIN_NORMAL) {
                assertTrue(Math.abs(got - want) <= 2 * Math.ulp((float) want), "exp(" + x + ") = " + got + ", not " + want);
            } else {
                // subnormal results: within 2 of the smallest step
                assertTrue(Math.abs(got - want) <= 2 * Float.MIN_VALUE, "exp(" + x + ") = " + got + ", not " + want);
            }
        }
    }

    @Example
    void theBoundsAndInfinities() {
        assertEquals(0f, exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, exp(-Float.MAX_VALUE));
        assertEquals(0f, exp(UNDERFLOW));
        assertEquals(0f, exp(Math.nextDown(UNDERFLOW)));
        assertTrue(exp(Math.nextUp(UNDERFLOW)) >= 0f);
        assertEquals(Float.POSITIVE_INFINITY, exp(OVERFLOW));
        assertEquals(Float.POSITIVE_INFINITY, exp(Math.nextUp(OVERFLOW)));
        assertEquals(Float.POSITIVE_INFINITY, exp(Float.MAX_VALUE));
        assertEquals(Float.POSITIVE_INFINITY, exp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isFinite(exp(Math.nextDown(Math.nextDown(OVERFLOW)))));
        assertTrue(Float.isNaN(exp(Float.NaN)));
        assertTrue(Float.isNaN(exp(Float.intBitsToFloat(0xFFC00001))));
        assertEquals(1f, exp(0f));
        assertEquals(1f, exp(-0f));
    }

    @Provide
    Arbitrary<Float> floats() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.floats().between(-110f, 95f).ofScale(6)),
                Tuple.of(1, near(UNDERFLOW)),
                Tuple.of(1, near(OVERFLOW)),
                Tuple.of(1, Arbitraries.integers().map(Float::intBitsToFloat)));
    }

    /** Floats within 1,000 steps of {@code x} either side. */
    private static Arbitrary<Float> near(float x) {
        return Arbitraries.integers().between(-1000, 1000).map(d -> Float.intBitsToFloat(Float.floatToRawIntBits(x) + d));
    }

    /** exp of x in every lane, lane 0 read back (all lanes are checked equal). */
    private static float exp(float x) {
        float[] out = new float[SimdSpecies.FLOAT.length()];
        SimdMath.exp(FloatVector.broadcast(SimdSpecies.FLOAT, x)).intoArray(out, 0);
        for (float v : out) {
            assertEquals(Float.floatToRawIntBits(out[0]), Float.floatToRawIntBits(v), "lanes differ for " + x);
        }
        return out[0];
    }
}
