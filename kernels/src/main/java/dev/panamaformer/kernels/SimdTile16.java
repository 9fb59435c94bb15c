package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Fused attention's micro-kernels for a register file of 16 vectors (x86 SSE and AVX2), over
 * strided native segments, with the contract of {@link SimdTile#multiply}: 4x3 (exactly 16 live vectors) and 4x2 (11). Which one is faster
 * depends on the CPU, not on the count (see {@link TileCalibration}), so they live apart from
 * {@link SimdTile}: the calibration runs them, compiled as they will be used, while SimdTile's
 * shape is still being decided in its class initializer.
 */
final class SimdTile16 {
    private static final int L = FLOAT.length();
    /** Bytes of one vector. */
    private static final long V = (long) L * Float.BYTES;

    private SimdTile16() {
    }

    /** 4 rows by 3 vectors: 12 accumulators, 3 B vectors and a broadcast, 16 registers. */
    static void multiply4x3(int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff,
                                    long ldb, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z;
        long ap = aOff, bp = bOff;
        for (int p = 0; p < k; p++, ap += aCol, bp += ldb) {
            long bb = bp * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, b, bb + 2 * V, ORDER);
            FloatVector a0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap));
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            c02 = b2.fma(a0, c02);
            FloatVector a1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + aRow));
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            c12 = b2.fma(a1, c12);
            FloatVector a2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 2 * aRow));
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            c22 = b2.fma(a2, c22);
            FloatVector a3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 3 * aRow));
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            c32 = b2.fma(a3, c32);
        }
        long d = dOff * Float.BYTES, row = ldd * Float.BYTES;
        c00.intoMemorySegment(dst, d, ORDER);
        c01.intoMemorySegment(dst, d + V, ORDER);
        c02.intoMemorySegment(dst, d + 2 * V, ORDER);
        d += row;
        c10.intoMemorySegment(dst, d, ORDER);
        c11.intoMemorySegment(dst, d + V, ORDER);
        c12.intoMemorySegment(dst, d + 2 * V, ORDER);
        d += row;
        c20.intoMemorySegment(dst, d, ORDER);
        c21.intoMemorySegment(dst, d + V, ORDER);
        c22.intoMemorySegment(dst, d + 2 * V, ORDER);
        d += row;
        c30.intoMemorySegment(dst, d, ORDER);
        c31.intoMemorySegment(dst, d + V, ORDER);
        c32.intoMemorySegment(dst, d + 2 * V, ORDER);
    }

    /** 4 rows by 2 vectors: 8 accumulators, 2 B vectors and a broadcast, 11 registers. */
    static void multiply4x2(int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff,
                                    long ldb, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        long ap = aOff, bp = bOff;
        for (int p = 0; p < k; p++, ap += aCol, bp += ldb) {
            long bb = bp * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + V, ORDER);
            FloatVector a0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap));
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + aRow));
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 2 * aRow));
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ap + 3 * aRow));
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
        }
        long d = dOff * Float.BYTES, row = ldd * Float.BYTES;
        c00.intoMemorySegment(dst, d, ORDER);
        c01.intoMemorySegment(dst, d + V, ORDER);
        d += row;
        c10.intoMemorySegment(dst, d, ORDER);
        c11.intoMemorySegment(dst, d + V, ORDER);
        d += row;
        c20.intoMemorySegment(dst, d, ORDER);
        c21.intoMemorySegment(dst, d + V, ORDER);
        d += row;
        c30.intoMemorySegment(dst, d, ORDER);
        c31.intoMemorySegment(dst, d + V, ORDER);
    }
}
