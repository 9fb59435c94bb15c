package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The register-tile micro-kernels of fused attention's block products ({@link SimdAttention}) over
 * native segments, and the write-back that the GEMM ({@link SimdMatmul}) shares: an MR x NR block
 * of C = A B for an (MR, k) A of any layout and a (k, NR) B with rows {@code ldb} apart. The accumulators are zeroed, summed over k and stored: straight into C where
 * C = A B is wanted, else into a tile buffer that {@link #writeBack} scales into C.
 *
 * <p>One micro-kernel per shape, as BLIS and OpenBLAS keep one per register file; {@link TileShape}
 * picks the shape once (4x4 where the JIT has 32 vector registers; where it has 16, 4x3 or 4x2 from
 * {@link SimdTile16}, whichever {@link TileCalibration} timed faster over strided segments; the
 * GEMM's packed kernels choose their own, {@link SimdPanelTile}) and
 * {@link #multiply} dispatches on a static final that C2 folds. Each kernel is written out: its
 * accumulators must be locals, and a helper taking or returning vectors boxes them when C2 does
 * not inline it. For the same reason C += A B is two calls, not one kernel that loads C.
 *
 * <p>Why no 6-row kernel for 32 registers, though one ran 14 % faster than 4x4 alone (212 against
 * 186 GFLOPS at 512 bits, Zen 5, in a throwaway probe of the micro-kernels over packed panels,
 * not kept): C1, the JIT's first tier, force-inlines the Vector API into these
 * methods, and a 6x4 kernel fails C1's tier-3 OSR compile ("out of virtual registers in linear
 * scan") whenever tier 2 compiled it first, as it does in a busy JVM; it then never reaches C2 and
 * every product runs about fifty times slower, its vectors on the heap. {@code bench/run
 * "AttentionBenchmark.(fused|materialized)Forward" -p length=32 -f 2 -jvmArgsAppend
 * -XX:+PrintCompilation} showed it in 2 of 4 forks (3.5 and 9.9 ms instead of 0.08). The kernels
 * here compile at every tier in the same forks. Check any change the same way: no "COMPILE
 * SKIPPED" may name SimdTile, and every kernel must reach level 4.
 */
final class SimdTile {
    private static final int L = FLOAT.length();
    /** Bytes of one vector. */
    private static final long V = (long) L * Float.BYTES;
    /** The shape in use; see {@link TileShape}. */
    static final TileShape SHAPE = TileShape.choose(SimdSpecies.preferredBits(), TileCalibration.Form.STRIDED);
    /** Rows of a tile. */
    static final int MR = SHAPE.rows();
    /** Columns of a tile: whole vectors. */
    static final int NR = SHAPE.vectors() * L;
    /** Floats of a tile buffer for {@link #multiply} and {@link #writeBack}. */
    static final int SIZE = MR * NR;
    /** MR * 10 + vectors: the switch key of {@link #multiply}, a constant to C2. */
    private static final int KERNEL = MR * 10 + SHAPE.vectors();

    private SimdTile() {
    }

    /**
     * {@code D = A B} for the (MR, k) A whose element (r, p) is at {@code aOff + r * aRow + p * aCol},
     * the (k, NR) B whose row p starts at {@code bOff + p * ldb}, and the MR x NR D whose row r
     * starts at {@code dOff + r * ldd} (a tile buffer: 0 and NR). Reads all MR rows of A and NR
     * columns of B; writes all of D.
     */
    static void multiply(int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff, long ldb,
                         MemorySegment dst, long dOff, long ldd) {
        switch (KERNEL) {
            case 44 -> multiply4x4(k, a, aOff, aRow, aCol, b, bOff, ldb, dst, dOff, ldd);
            case 43 -> SimdTile16.multiply4x3(k, a, aOff, aRow, aCol, b, bOff, ldb, dst, dOff, ldd);
            case 42 -> SimdTile16.multiply4x2(k, a, aOff, aRow, aCol, b, bOff, ldb, dst, dOff, ldd);
            default -> throw new AssertionError("no micro-kernel for " + SHAPE);
        }
    }

    /** 4 rows by 4 vectors: 16 accumulators, 4 B vectors and a broadcast, 21 registers. */
    private static void multiply4x4(int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff,
                                    long ldb, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        long ap = aOff, bp = bOff;
        for (int p = 0; p < k; p++, ap += aCol, bp += ldb) {
            long bb = bp * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, b, bb + 2 * V, ORDER);
            FloatVector b3 = FloatVector.fromMemorySegment(FLOAT, b, bb + 3 * V, ORDER);
            FloatVector a0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap));
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            c02 = b2.fma(a0, c02);
            c03 = b3.fma(a0, c03);
            FloatVector a1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + aRow));
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            c12 = b2.fma(a1, c12);
            c13 = b3.fma(a1, c13);
            FloatVector a2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 2 * aRow));
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            c22 = b2.fma(a2, c22);
            c23 = b3.fma(a2, c23);
            FloatVector a3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 3 * aRow));
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            c32 = b2.fma(a3, c32);
            c33 = b3.fma(a3, c33);
        }
        long d = dOff * Float.BYTES, row = ldd * Float.BYTES;
        c00.intoMemorySegment(dst, d, ORDER);
        c01.intoMemorySegment(dst, d + V, ORDER);
        c02.intoMemorySegment(dst, d + 2 * V, ORDER);
        c03.intoMemorySegment(dst, d + 3 * V, ORDER);
        d += row;
        c10.intoMemorySegment(dst, d, ORDER);
        c11.intoMemorySegment(dst, d + V, ORDER);
        c12.intoMemorySegment(dst, d + 2 * V, ORDER);
        c13.intoMemorySegment(dst, d + 3 * V, ORDER);
        d += row;
        c20.intoMemorySegment(dst, d, ORDER);
        c21.intoMemorySegment(dst, d + V, ORDER);
        c22.intoMemorySegment(dst, d + 2 * V, ORDER);
        c23.intoMemorySegment(dst, d + 3 * V, ORDER);
        d += row;
        c30.intoMemorySegment(dst, d, ORDER);
        c31.intoMemorySegment(dst, d + V, ORDER);
        c32.intoMemorySegment(dst, d + 2 * V, ORDER);
        c33.intoMemorySegment(dst, d + 3 * V, ORDER);
    }

    /**
     * C (rows x cols, at most the tile's, rows ldc apart) = alpha * tile + beta * C, from the tile
     * buffer's row {@code tileRow} on, its rows {@code tileWidth} floats apart; C is not read when
     * beta is 0. Multiply, then add, never
     * fused, in vectors and in the scalar edge alike, so that an element rounds the same whichever
     * way a thread's range cuts the tiles.
     */
    static void writeBack(MemorySegment tile, int tileRow, int tileWidth, float alpha, float beta, MemorySegment c,
                          long cTile, int ldc, int rows, int cols) {
        int vecCols = cols / L * L;
        for (int i = 0; i < rows; i++) {
            long t = (long) (tileRow + i) * tileWidth, ci = cTile + (long) i * ldc;
            int j = 0;
            for (; j < vecCols; j += L) {
                FloatVector v = FloatVector.fromMemorySegment(FLOAT, tile, (t + j) * Float.BYTES, ORDER).mul(alpha);
                if (beta != 0f) {
                    v = v.add(FloatVector.fromMemorySegment(FLOAT, c, (ci + j) * Float.BYTES, ORDER).mul(beta));
                }
                v.intoMemorySegment(c, (ci + j) * Float.BYTES, ORDER);
            }
            for (; j < cols; j++) {
                float v = alpha * tile.getAtIndex(JAVA_FLOAT, t + j);
                if (beta != 0f) {
                    v = v + beta * c.getAtIndex(JAVA_FLOAT, ci + j);
                }
                c.setAtIndex(JAVA_FLOAT, ci + j, v);
            }
        }
    }
}
