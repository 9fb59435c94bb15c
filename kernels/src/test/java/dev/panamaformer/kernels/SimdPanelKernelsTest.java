package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Every micro-kernel of the GEMM, each shape and each layout of A, whatever shape this JVM chose
 * (the GEMM's property tests run only the chosen one), against the plain sum over k: the same FMAs
 * in the same order, so the same bits.
 */
@AddLifecycleHook(SimdOnly.class)
class SimdPanelKernelsTest {
    private static final int KC = SimdPanelKernels.KC;

    @Property(tries = 150)
    void everyPackedKernelSumsEachElementOverKInOrder(@ForAll @IntRange(min = 0, max = KC) int k,
                                                      @ForAll @IntRange(min = 2, max = 4) int vectors,
                                                      @ForAll boolean inStrips, @ForAll long seed) {
        int lanes = SimdSpecies.FLOAT.length(), nr = vectors * lanes, ldd = nr + 3;
        Random random = new Random(seed);
        int aOff = random.nextInt(5), bOff = random.nextInt(5);
        long dOff = random.nextInt(5);
        int aRow = inStrips ? 1 : KC, aCol = inStrips ? 4 : 1;
        float[] a = random(aOff + 3 * aRow + Math.max(k - 1, 0) * aCol + 1, random);
        float[] b = random(bOff + k * nr, random);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate((dOff + 4L * ldd) * Float.BYTES);
            multiply(vectors, inStrips, k, a, aOff, b, bOff, d, dOff, ldd);
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < nr; c++) {
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        sum = Math.fma(a[aOff + r * aRow + p * aCol], b[bOff + p * nr + c], sum);
                    }
                    assertEquals(Float.floatToRawIntBits(sum), Float.floatToRawIntBits(d.getAtIndex(JAVA_FLOAT, dOff + (long) r * ldd + c)),
                            "4x" + vectors + (inStrips ? " in strips" : " by rows") + ", row " + r + ", column " + c + ", k " + k);
                }
            }
        }
    }

    private static void multiply(int vectors, boolean inStrips, int k, float[] a, int aOff, float[] b, int bOff,
                                 MemorySegment d, long dOff, long ldd) {
        switch (vectors * 2 + (inStrips ? 1 : 0)) {
            case 8 -> SimdPanelKernels.multiply4x4Rows(k, a, aOff, b, bOff, d, dOff, ldd);
            case 9 -> SimdPanelKernels.multiply4x4Strips(k, a, aOff, b, bOff, d, dOff, ldd);
            case 6 -> SimdPanelKernels.multiply4x3Rows(k, a, aOff, b, bOff, d, dOff, ldd);
            case 7 -> SimdPanelKernels.multiply4x3Strips(k, a, aOff, b, bOff, d, dOff, ldd);
            case 4 -> SimdPanelKernels.multiply4x2Rows(k, a, aOff, b, bOff, d, dOff, ldd);
            case 5 -> SimdPanelKernels.multiply4x2Strips(k, a, aOff, b, bOff, d, dOff, ldd);
            default -> throw new AssertionError(vectors);
        }
    }

    private static float[] random(int floats, Random random) {
        float[] a = new float[floats];
        for (int i = 0; i < floats; i++) {
            a[i] = random.nextFloat() * 2f - 1f;
        }
        return a;
    }
}
