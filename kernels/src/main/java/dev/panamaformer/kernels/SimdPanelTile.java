package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;

import java.lang.foreign.MemorySegment;

/**
 * The register tile of the blocked GEMM ({@link SimdMatmul}) over its packed panels, and its
 * dispatch to {@link SimdPanelKernels}: op(A) packed by rows (element (r, p) at
 * {@code aOff + r * KC + p}, where A is stored (m, k): one bulk copy per row) or in strips of 4
 * rows (at {@code aOff + p * 4 + r}, where A is stored (k, m): one 4-float move per p), B packed
 * NR columns wide.
 *
 * <p>The shape is chosen once per JVM, apart from the shape of fused attention's strided kernels
 * ({@link SimdTile}), because the two kinds of kernel rank the shapes differently: 4x4 where the JIT
 * has 32 vector registers; where it has 16, whichever of 4x3 and 4x2 {@link TileCalibration} timed
 * faster over these kernels. On an AMD Zen 4 under AVX2, 4x2 ran twice as fast as 4x3 here
 * (108 against 50 GFLOPS) while over strided segments 4x3 won (65 against 44 % of the FMA
 * peak). {@link #multiplyRows} and {@link #multiplyStrips} switch on a static final that C2 folds.
 */
final class SimdPanelTile {
    /** The shape in use; see {@link TileShape}. */
    static final TileShape SHAPE = TileShape.choose(SimdSpecies.preferredBits(), TileCalibration.Form.PACKED);
    /** Rows of a tile: 4 for every shape, so that a packed block of A holds MC / 4 tiles. */
    static final int MR = SHAPE.rows();
    /** Columns of a tile: whole vectors. */
    static final int NR = SHAPE.vectors() * FLOAT.length();
    /** MR * 10 + vectors: the switch key, a constant to C2. */
    private static final int KERNEL = MR * 10 + SHAPE.vectors();

    private SimdPanelTile() {
    }

    /**
     * {@code D = A B} for the (MR, k) A packed by rows from {@code aOff} and the (k, NR) B panel
     * from {@code bOff}; the MR x NR D's row r starts at {@code dOff + r * ldd}.
     */
    static void multiplyRows(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        switch (KERNEL) {
            case 44 -> SimdPanelKernels.multiply4x4Rows(k, a, aOff, b, bOff, dst, dOff, ldd);
            case 43 -> SimdPanelKernels.multiply4x3Rows(k, a, aOff, b, bOff, dst, dOff, ldd);
            case 42 -> SimdPanelKernels.multiply4x2Rows(k, a, aOff, b, bOff, dst, dOff, ldd);
            default -> throw new AssertionError("no micro-kernel for " + SHAPE);
        }
    }

    /** {@code D = A B} as {@link #multiplyRows}, for A packed in a strip of 4 rows. */
    static void multiplyStrips(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        switch (KERNEL) {
            case 44 -> SimdPanelKernels.multiply4x4Strips(k, a, aOff, b, bOff, dst, dOff, ldd);
            case 43 -> SimdPanelKernels.multiply4x3Strips(k, a, aOff, b, bOff, dst, dOff, ldd);
            case 42 -> SimdPanelKernels.multiply4x2Strips(k, a, aOff, b, bOff, dst, dOff, ldd);
            default -> throw new AssertionError("no micro-kernel for " + SHAPE);
        }
    }
}
