package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** The start-up choice between the 16-register tiles changes the speed only. */
@AddLifecycleHook(SimdOnly.class)
class TileCalibrationTest {

    /**
     * 4x3 and 4x2 over the same A (any strides) and B give the same bits in every column both
     * compute: whichever the calibration picks, every product, and so every training run, is the same.
     */
    @Property(tries = 60)
    void bothSixteenRegisterTilesGiveTheSameBits(@ForAll @IntRange(min = 0, max = 300) int k,
                                                  @ForAll boolean transposedA, @ForAll long seed) {
        int lanes = SimdSpecies.FLOAT.length(), ldb = 3 * lanes + 5, ldd = 3 * lanes;
        Random random = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = random(arena, 4L * k + 1, random);
            MemorySegment b = random(arena, (long) k * ldb + 3 * lanes, random);
            MemorySegment wide = arena.allocate(4L * ldd * Float.BYTES), narrow = arena.allocate(4L * ldd * Float.BYTES);
            long aRow = transposedA ? 1 : k, aCol = transposedA ? 4 : 1;
            SimdTile16.multiply4x3(k, a, 1, aRow, aCol, b, 3, ldb, wide, 0, ldd);
            SimdTile16.multiply4x2(k, a, 1, aRow, aCol, b, 3, ldb, narrow, 0, ldd);
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 2 * lanes; c++) {
                    long i = (long) r * ldd + c;
                    assertEquals(Float.floatToRawIntBits(wide.getAtIndex(JAVA_FLOAT, i)),
                            Float.floatToRawIntBits(narrow.getAtIndex(JAVA_FLOAT, i)), "row " + r + ", column " + c + ", k " + k);
                }
            }
        }
    }

    @Property(tries = 2)
    void theMeasurementPicksTheFasterKernelAndNamesBoth(@ForAll TileCalibration.Form form) {
        TileCalibration.Result result = TileCalibration.measure(form);
        assertTrue(result.gflops4x3() > 0 && result.gflops4x2() > 0 && Double.isFinite(result.gflops4x3() + result.gflops4x2()),
                result.toString());
        TileShape shape = result.shape(16);
        assertEquals(4, shape.rows());
        assertEquals(result.compiled() && result.gflops4x2() > result.gflops4x3() ? 2 : 3, shape.vectors(), result.toString());
        assertTrue(shape.description().contains("4x3 ") && shape.description().contains("4x2 "), shape.description());
    }

    /**
     * Figures of the interpreter or C1 decide nothing: the shape that ran fastest on the CPUs
     * measured (4x3 strided, 4x2 packed), said to be unmeasured.
     */
    @Example
    void figuresBelowC2sCodeDecideNothing() {
        TileShape strided = new TileCalibration.Result(TileCalibration.Form.STRIDED, 0.2, 0.3, 1_000_000_000L, false).shape(16);
        assertEquals(3, strided.vectors());
        assertTrue(strided.description().contains("not measured"), strided.description());
        TileShape packed = new TileCalibration.Result(TileCalibration.Form.PACKED, 0.3, 0.2, 1_000_000_000L, false).shape(16);
        assertEquals(2, packed.vectors());
        assertTrue(packed.description().contains("not measured"), packed.description());
        assertEquals(2, new TileCalibration.Result(TileCalibration.Form.STRIDED, 40, 80, 400_000_000L, true).shape(16).vectors());
        assertEquals(3, new TileCalibration.Result(TileCalibration.Form.PACKED, 80, 40, 400_000_000L, true).shape(16).vectors());
    }

    private static MemorySegment random(Arena arena, long floats, Random random) {
        MemorySegment s = arena.allocate(floats * Float.BYTES, FloatTensor.ALIGNMENT);
        for (long i = 0; i < floats; i++) {
            s.setAtIndex(JAVA_FLOAT, i, random.nextFloat() * 2f - 1f);
        }
        return s;
    }
}
