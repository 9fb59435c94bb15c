package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The register-tile micro-kernel of the SIMD products ({@link SimdMatmul}, {@link SimdAttention}):
 * an MR x NR block of C = A B for an (MR, k) A of any layout and a (k, NR) B with rows
 * {@code ldb} apart. Its 16 accumulators are zeroed, summed over k and stored: straight into C
 * where C = A B is wanted, else into a tile buffer that {@link #writeBack} scales into C.
 *
 * <p>Why 4 rows and not the 6 that AVX-512's 32 registers allow: C1, the JIT's first tier,
 * force-inlines the Vector API into this method, and with 6 rows its tier-3 OSR compile ran out
 * of virtual registers ("out of virtual registers in linear scan") whenever tier 2 had compiled
 * the method first, as it does in a busy JVM; the method then never reached C2 and every product
 * ran about fifty times slower, with its vectors on the heap ({@code bench/run
 * "AttentionBenchmark.(fused|materialized)Forward" -p length=32 -f 1 -jvmArgsAppend
 * -XX:+PrintCompilation}: 0.78 ms instead of 0.08, the materialized path too). The 4-row kernel
 * compiles at every tier in the same forks and costs about 3 % ({@code bench/run
 * "GemmBenchmark.gemmSimd"}: 327 vs 316 us at 256³). For the same
 * reason C += A B is two calls, not one method that loads C around the loop, and the tile does
 * not go to a helper, which C2 may decline to inline and would then box 16 vectors. Check any
 * change here with {@code -XX:+PrintCompilation} in a JMH fork: "COMPILE SKIPPED" must not
 * appear, and the method must reach level 4.
 */
final class SimdTile {
    private static final int L = FLOAT.length();
    /** Rows of a tile: 16 accumulators, 4 B vectors and a broadcast in registers; see above for why not 6. */
    static final int MR = 4;
    /** Columns of a tile: four vectors. */
    static final int NR = 4 * L;
    /** Floats of a tile buffer for {@link #multiply} and {@link #writeBack}. */
    static final int SIZE = MR * NR;

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
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        long r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow;
        long ap = aOff, bp = bOff;
        for (int p = 0; p < k; p++, ap += aCol, bp += ldb) {
            long bb = bp * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + L * Float.BYTES, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, b, bb + 2 * L * Float.BYTES, ORDER);
            FloatVector b3 = FloatVector.fromMemorySegment(FLOAT, b, bb + 3 * L * Float.BYTES, ORDER);
            FloatVector a0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap));
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            c02 = b2.fma(a0, c02);
            c03 = b3.fma(a0, c03);
            FloatVector a1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + r1));
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            c12 = b2.fma(a1, c12);
            c13 = b3.fma(a1, c13);
            FloatVector a2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + r2));
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            c22 = b2.fma(a2, c22);
            c23 = b3.fma(a2, c23);
            FloatVector a3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + r3));
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            c32 = b2.fma(a3, c32);
            c33 = b3.fma(a3, c33);
        }
        long tb = dOff;
        c00.intoMemorySegment(dst, tb * Float.BYTES, ORDER);
        c01.intoMemorySegment(dst, (tb + L) * Float.BYTES, ORDER);
        c02.intoMemorySegment(dst, (tb + 2 * L) * Float.BYTES, ORDER);
        c03.intoMemorySegment(dst, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += ldd;
        c10.intoMemorySegment(dst, tb * Float.BYTES, ORDER);
        c11.intoMemorySegment(dst, (tb + L) * Float.BYTES, ORDER);
        c12.intoMemorySegment(dst, (tb + 2 * L) * Float.BYTES, ORDER);
        c13.intoMemorySegment(dst, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += ldd;
        c20.intoMemorySegment(dst, tb * Float.BYTES, ORDER);
        c21.intoMemorySegment(dst, (tb + L) * Float.BYTES, ORDER);
        c22.intoMemorySegment(dst, (tb + 2 * L) * Float.BYTES, ORDER);
        c23.intoMemorySegment(dst, (tb + 3 * L) * Float.BYTES, ORDER);
        tb += ldd;
        c30.intoMemorySegment(dst, tb * Float.BYTES, ORDER);
        c31.intoMemorySegment(dst, (tb + L) * Float.BYTES, ORDER);
        c32.intoMemorySegment(dst, (tb + 2 * L) * Float.BYTES, ORDER);
        c33.intoMemorySegment(dst, (tb + 3 * L) * Float.BYTES, ORDER);
    }

    /**
     * C (rows x cols, at most MR x NR, rows ldc apart) = alpha * tile + beta * C; C is not read
     * when beta is 0. Multiply, then add, never fused, in vectors and in the scalar edge alike,
     * so that an element rounds the same whichever way a thread's range cuts the tiles.
     */
    static void writeBack(MemorySegment tile, float alpha, float beta, MemorySegment c, long cTile, int ldc,
                          int rows, int cols) {
        int vecCols = cols / L * L;
        for (int i = 0; i < rows; i++) {
            long t = (long) i * NR, ci = cTile + (long) i * ldc;
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
