package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The register tile of the blocked GEMM ({@link SimdMatmul}) over its packed panels on 32 vector
 * registers (see {@link #APPLIES}; elsewhere it hands over to {@link SimdTile}): A packed
 * row-major (row r of the MR rows at {@code aOff + r * aRow}, its elements one apart), B packed
 * with rows {@link SimdTile#NR} apart. Every address in the k loop is then the loop counter times
 * a constant plus an invariant, so C2 hoists the bounds checks of all loads out of the loop and
 * keeps one counter; {@link SimdTile}'s kernels, which take any strides (fused attention's blocks
 * need them), pay a check and a pointer update per load and per k. On Intel cores, whose integer
 * instructions share ports 0 and 5 with the 512-bit FMA units, that overhead held the GEMM at 65 %
 * of the FMA peak (Xeon model 207, AVX-512, GEMM 256³); AMD's Zen keeps integer and vector ports
 * apart. In a probe of the 4x4 kernel alone over packed panels on that Xeon: 131 GFLOPS with
 * strides, 159 with the constant ones.
 *
 * <p>The same order of operations per element as {@link SimdTile}'s 4x4 (the sum over k in order,
 * one FMA per step), so a product has the same bits through either. The same cautions hold: the
 * kernel written out, accumulators as locals, checked at every JIT tier.
 */
final class SimdPanelTile {
    private static final int L = FLOAT.length();
    /** Bytes of one vector. */
    private static final long V = (long) L * Float.BYTES;
    private static final int NR = SimdTile.NR;
    private static final int MC = SimdMatmul.MC;
    /**
     * Whether the GEMM takes this kernel: for the 4x4 tile, on 32 vector registers. On 16 (AVX2,
     * SSE), where the 4x3 and 4x2 tiles fill the register file, the same rewrite of those tiles
     * lost speed (Xeon model 207, GEMM 256³ against the FMA peak: AVX2 4x3 61 % to 52 %, 128-bit
     * 68 % to 42 %): with the checks hoisted, C2 unrolls the loop and has no registers for it.
     * There {@link SimdTile}'s kernels run.
     */
    static final boolean APPLIES = SimdTile.MR == 4 && SimdTile.SHAPE.vectors() == 4;

    private SimdPanelTile() {
    }

    /**
     * {@code D = A B} for the (MR, k) A whose element (r, p) is at {@code aOff + r * aRow + p} and
     * the (k, NR) B whose row p starts at {@code bOff + p * NR}; the MR x NR D's row r starts at
     * {@code dOff + r * ldd}.
     */
    static void multiply(int k, MemorySegment a, long aOff, long aRow, MemorySegment b, long bOff, MemorySegment dst,
                         long dOff, long ldd) {
        if (APPLIES) {
            multiply4x4(k, a, aOff, aRow, b, bOff, dst, dOff, ldd);
        } else {
            SimdTile.multiply(k, a, aOff, aRow, 1, b, bOff, NR, dst, dOff, ldd);
        }
    }

    /**
     * {@code D = A B} as {@link #multiply}, for A packed by columns: element (r, p) at
     * {@code aOff + r + p * }{@link SimdMatmul#MC}, the block's rows of one p side by side. The
     * GEMM packs A so where A is stored transposed (k, m): each p's rows are then one bulk copy.
     */
    static void multiplyColumns(int k, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment dst,
                                long dOff, long ldd) {
        if (APPLIES) {
            multiply4x4Columns(k, a, aOff, b, bOff, dst, dOff, ldd);
        } else {
            SimdTile.multiply(k, a, aOff, 1, SimdMatmul.MC, b, bOff, NR, dst, dOff, ldd);
        }
    }

    /** 4 rows by 4 vectors: 16 accumulators, 4 B vectors and a broadcast. */
    private static void multiply4x4(int k, MemorySegment a, long aOff, long aRow, MemorySegment b, long bOff,
                                    MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        long a0 = aOff, a1 = aOff + aRow, a2 = aOff + 2 * aRow, a3 = aOff + 3 * aRow;
        for (int p = 0; p < k; p++) {
            long bb = (bOff + (long) p * NR) * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, b, bb + 2 * V, ORDER);
            FloatVector b3 = FloatVector.fromMemorySegment(FLOAT, b, bb + 3 * V, ORDER);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, a0 + p));
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, a1 + p));
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, a2 + p));
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, a3 + p));
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
            c33 = b3.fma(x3, c33);
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

    /** {@link #multiply4x4} over A packed by columns: element (r, p) at {@code aOff + r + p * MC}. */
    private static void multiply4x4Columns(int k, MemorySegment a, long aOff, MemorySegment b, long bOff,
                                           MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        for (int p = 0; p < k; p++) {
            long bb = (bOff + (long) p * NR) * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOAT, b, bb, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOAT, b, bb + V, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(FLOAT, b, bb + 2 * V, ORDER);
            FloatVector b3 = FloatVector.fromMemorySegment(FLOAT, b, bb + 3 * V, ORDER);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, aOff + (long) p * MC));
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, aOff + 1 + (long) p * MC));
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, aOff + 2 + (long) p * MC));
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, aOff + 3 + (long) p * MC));
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
            c33 = b3.fma(x3, c33);
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
}
