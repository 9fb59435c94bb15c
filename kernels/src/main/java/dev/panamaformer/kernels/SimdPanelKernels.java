package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The GEMM's micro-kernels ({@link SimdPanelTile}): an MR x NR tile of D = A B over the packed
 * panels, which live in heap arrays, for each tile shape and each of the two layouts op(A) is
 * packed in. B's panel holds row p of the tile's B at {@code bOff + p * NR}. Every address in the
 * k loop is the loop counter times a constant plus an invariant: C2 hoists the arrays' bounds
 * checks out of the loop and keeps one counter.
 *
 * <p>Why heap arrays, where the rest of this library reads native segments: on 16 vector
 * registers the same 4x2 kernel over native segments ran at half the speed. A probe of the
 * kernels alone over packed panels (AMD EPYC Zen 4, JDK 25, 96 x 256 of A by 16 panels of B,
 * best of 4 s): {@code -XX:UseAVX=2} 4x2 108.3 GFLOPS from arrays, 51.6 from segments (the FMA
 * peak is 109); 128-bit 54.9 and 49.8; with AVX-512 the two were level (4x4: 116 and 114).
 * With A's strides as arguments instead of constants the arrays gave 96-99.
 *
 * <p>Apart from {@link SimdPanelTile} because {@link TileCalibration} runs these kernels while
 * SimdPanelTile's shape is still being decided in its class initializer: code compiled for a
 * class under initialization may keep traps that a later call through it would pay. Each kernel
 * is written out: its accumulators must be locals, and a helper taking or returning vectors
 * boxes them when C2 does not inline it. Every kernel sums each element over k in order with one
 * FMA per step, as {@link SimdTile}'s do, so a product has the same bits through any of them.
 */
final class SimdPanelKernels {
    private static final int L = FLOAT.length();
    /** Bytes of one vector. */
    private static final long V = (long) L * Float.BYTES;
    /**
     * Depth of a packed block, and the distance between two rows of A packed by rows. Each block
     * after the first adds its tile into C through a tile buffer, so fewer blocks pay, and at this
     * depth the products of the tasks and the GEMM 1024³ have one. Under AVX2 the B panel of a
     * tile (1024 x 16 floats, 64 KiB) then streams from L2 rather than sitting in L1, which the
     * kernel's two loads per 8 FMAs absorb. GEMM 1024³ on one thread (AMD EPYC Zen 4, best of 3 s
     * per JVM, NN / TN / NT, A strips as now): under AVX2 97.6-99.1 / 93.6-96.0 / 94.4-94.5 GFLOPS
     * at 512, 101.5-102.2 / 97.9-98.4 / 99.4-100.2 at 1024, 94.4-94.6 / 90.8-92.0 / 93.9-94.3
     * at 256; with AVX-512 105.1-105.4 / 102.3-107.0 / 102.1-102.9 at 512 and 111.3-112.4 /
     * 102.1-104.7 / 107.2-108.1 at 1024; 128-bit 47.9-51.6 / 46.9-47.1 / 49.5 at 512 (A by
     * columns) and 51.6 / 50.9 / 51.3 at 1024.
     */
    static final int KC = 1024;
    /** Rows of a packed block of A: 20 strips of 4 rows. */
    static final int MC = 80;

    private SimdPanelKernels() {
    }

    /** 4 rows by 4 vectors over A packed by rows: element (r, p) at {@code aOff + r * KC + p}. */
    static void multiply4x4Rows(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap++, bp += 4 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(FLOAT, b, bp + 2 * L);
            FloatVector b3 = FloatVector.fromArray(FLOAT, b, bp + 3 * L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + KC]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2 * KC]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3 * KC]);
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

    /** 4 rows by 4 vectors over A packed in a strip of 4 rows: element (r, p) at {@code aOff + p * 4 + r}. */
    static void multiply4x4Strips(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap += 4, bp += 4 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(FLOAT, b, bp + 2 * L);
            FloatVector b3 = FloatVector.fromArray(FLOAT, b, bp + 3 * L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + 1]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3]);
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

    /** 4 rows by 3 vectors over A packed by rows: element (r, p) at {@code aOff + r * KC + p}. */
    static void multiply4x3Rows(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap++, bp += 3 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(FLOAT, b, bp + 2 * L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + KC]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2 * KC]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3 * KC]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
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

    /** 4 rows by 3 vectors over A packed in a strip of 4 rows: element (r, p) at {@code aOff + p * 4 + r}. */
    static void multiply4x3Strips(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap += 4, bp += 3 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(FLOAT, b, bp + 2 * L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + 1]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
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

    /** 4 rows by 2 vectors over A packed by rows: element (r, p) at {@code aOff + r * KC + p}. */
    static void multiply4x2Rows(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap++, bp += 2 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + KC]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2 * KC]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3 * KC]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
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

    /** 4 rows by 2 vectors over A packed in a strip of 4 rows: element (r, p) at {@code aOff + p * 4 + r}. */
    static void multiply4x2Strips(int k, float[] a, int aOff, float[] b, int bOff, MemorySegment dst, long dOff, long ldd) {
        FloatVector z = FloatVector.zero(FLOAT);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        for (int p = 0, ap = aOff, bp = bOff; p < k; p++, ap += 4, bp += 2 * L) {
            FloatVector b0 = FloatVector.fromArray(FLOAT, b, bp);
            FloatVector b1 = FloatVector.fromArray(FLOAT, b, bp + L);
            FloatVector x0 = FloatVector.broadcast(FLOAT, a[ap]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(FLOAT, a[ap + 1]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(FLOAT, a[ap + 2]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(FLOAT, a[ap + 3]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
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
