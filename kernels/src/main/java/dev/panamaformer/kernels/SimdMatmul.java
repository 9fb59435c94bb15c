package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static dev.panamaformer.kernels.SimdSpecies.ORDER;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked matrix product on the Vector API, after Goto and van de Geijn (2008): op(B) is packed
 * into panels NR columns wide, op(A) into blocks of MC rows, and a register-tile micro-kernel
 * ({@link SimdPanelTile}) multiplies MR rows of a block by one panel. Packing absorbs both
 * transpositions, so one micro-kernel per layout of A serves all four forms.
 *
 * <p>Every element of C is summed over k in the same order (blocks of KC, ascending) wherever it
 * falls in the tiling, so splitting C across threads does not change a single bit.
 */
final class SimdMatmul implements MatmulKernel {
    private static final int L = FLOAT.length();
    /** Register tile: see {@link SimdPanelTile}. */
    static final int MR = SimdPanelTile.MR;
    static final int NR = SimdPanelTile.NR;
    /** A KC x NR panel of B stays in L2 while the MR x KC panels of A stream past it. */
    static final int KC = SimdPanelKernels.KC;
    static final int MC = SimdPanelKernels.MC;
    static final int NC = 1024 / NR * NR;

    /** One p of a strip of A: MR floats, 4 for every tile shape. */
    private static final VectorSpecies<Float> STRIP = FloatVector.SPECIES_128;
    private static final ScalarMatmul EDGES = new ScalarMatmul();

    static {
        if (STRIP.length() != MR) {
            throw new AssertionError("a strip of A is " + MR + " rows, its move " + STRIP);
        }
    }

    @Override
    public GemmWorkspace newWorkspace(Arena arena) {
        return new GemmWorkspace(arena, MC * KC, KC * NC, (long) MR * NR);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc, GemmWorkspace ws) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            // no products: C = beta * C, via the scalar path, which handles it per element
            EDGES.gemm(transA, transB, m, n, 0, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null);
            return;
        }
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float betaBlock = pc == 0 ? beta : 1f;
                boolean direct = alpha == 1f && betaBlock == 0f;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, ws.packedB);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, ws.packedA);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int bPanel = jr / NR * kc * NR;
                        int cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            long cTile = cOff + (long) (ic + ir) * ldc + jc + jr;
                            int tileRows = Math.min(MR, mc - ir);
                            // C = 1 * tile + 0 straight into C: the same bits as through the tile buffer, one pass fewer
                            boolean straight = direct && tileRows == MR && cols == NR;
                            MemorySegment d = straight ? c : ws.tile;
                            long dOff = straight ? cTile : 0, ldd = straight ? ldc : NR;
                            if (transA) {
                                SimdPanelTile.multiplyStrips(kc, ws.packedA, ir * KC, ws.packedB, bPanel, d, dOff, ldd);
                            } else {
                                SimdPanelTile.multiplyRows(kc, ws.packedA, ir * KC, ws.packedB, bPanel, d, dOff, ldd);
                            }
                            if (!straight) {
                                SimdTile.writeBack(ws.tile, 0, NR, alpha, betaBlock, c, cTile, ldc, tileRows, cols);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Small products straight from A and B, no packing. B stored (k, n): per row of C, vectors of
     * columns summed over k from broadcasts of A. B stored (n, k): dot products of A's and B's
     * rows, the lanes along k added at the end in {@link SimdSpecies#SWAP_8}'s fixed butterfly order (never
     * {@code reduceLanes}, whose order differs between compiled and interpreted code). Both transposed: the scalar path (no caller needs
     * it). Rows: four independent sums at a time where the shape allows, so that the FMA latency
     * overlaps. Every vector stays inside one method, as a vector passed to a call the JIT does
     * not inline is boxed.
     */
    @Override
    public void gemmSmall(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                          float beta, MemorySegment c, long cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || (transA && transB)) {
            EDGES.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null);
        } else if (transB) {
            smallDots(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            smallRows(transA, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** C = alpha op(A) B + beta C with B stored (k, n); op(A)[i, p] at aOff + i * aRow + p * aCol. */
    private static void smallRows(boolean transA, int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                                  MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        long aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        int bound = FLOAT.loopBound(n);
        FloatVector alphas = FloatVector.broadcast(FLOAT, alpha), betas = FloatVector.broadcast(FLOAT, beta);
        for (int i = 0; i < m; i++) {
            long ai = aOff + i * aRow, ci = cOff + (long) i * ldc;
            int j = 0;
            // four vectors of a row at a time: four independent sums share each broadcast of A
            for (; j + 4 * L <= bound; j += 4 * L) {
                FloatVector c0 = FloatVector.zero(FLOAT), c1 = c0, c2 = c0, c3 = c0;
                for (int p = 0; p < k; p++) {
                    FloatVector av = FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ai + p * aCol));
                    long bp = (bOff + (long) p * ldb + j) * Float.BYTES;
                    c0 = FloatVector.fromMemorySegment(FLOAT, b, bp, ORDER).fma(av, c0);
                    c1 = FloatVector.fromMemorySegment(FLOAT, b, bp + (long) L * Float.BYTES, ORDER).fma(av, c1);
                    c2 = FloatVector.fromMemorySegment(FLOAT, b, bp + 2L * L * Float.BYTES, ORDER).fma(av, c2);
                    c3 = FloatVector.fromMemorySegment(FLOAT, b, bp + 3L * L * Float.BYTES, ORDER).fma(av, c3);
                }
                long cj = (ci + j) * Float.BYTES, step = (long) L * Float.BYTES;
                c0 = c0.mul(alphas);
                c1 = c1.mul(alphas);
                c2 = c2.mul(alphas);
                c3 = c3.mul(alphas);
                if (beta != 0f) {
                    c0 = FloatVector.fromMemorySegment(FLOAT, c, cj, ORDER).fma(betas, c0);
                    c1 = FloatVector.fromMemorySegment(FLOAT, c, cj + step, ORDER).fma(betas, c1);
                    c2 = FloatVector.fromMemorySegment(FLOAT, c, cj + 2 * step, ORDER).fma(betas, c2);
                    c3 = FloatVector.fromMemorySegment(FLOAT, c, cj + 3 * step, ORDER).fma(betas, c3);
                }
                c0.intoMemorySegment(c, cj, ORDER);
                c1.intoMemorySegment(c, cj + step, ORDER);
                c2.intoMemorySegment(c, cj + 2 * step, ORDER);
                c3.intoMemorySegment(c, cj + 3 * step, ORDER);
            }
            for (; j < bound; j += L) {
                FloatVector acc = FloatVector.zero(FLOAT);
                for (int p = 0; p < k; p++) {
                    acc = FloatVector.fromMemorySegment(FLOAT, b, (bOff + (long) p * ldb + j) * Float.BYTES, ORDER)
                            .fma(FloatVector.broadcast(FLOAT, a.getAtIndex(JAVA_FLOAT, ai + p * aCol)), acc);
                }
                acc = acc.mul(alphas);
                if (beta != 0f) {
                    acc = FloatVector.fromMemorySegment(FLOAT, c, (ci + j) * Float.BYTES, ORDER).fma(betas, acc);
                }
                acc.intoMemorySegment(c, (ci + j) * Float.BYTES, ORDER);
            }
        }
        if (bound < n) {
            // the columns past the last whole vector, one element at a time
            EDGES.gemm(transA, false, m, n - bound, k, alpha, a, aOff, lda, b, bOff + bound, ldb, beta, c, cOff + bound, ldc, null);
        }
    }

    /**
     * C = alpha A Bᵀ + beta C with A stored (m, k) and B stored (n, k): dot products of rows, four
     * of B's rows at a time against one of A's, so that each vector of A is loaded once for four
     * FMAs. Each dot product keeps its own accumulator and reduction, so it has the bits it had
     * alone.
     */
    private static void smallDots(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                                  MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        int bound = FLOAT.loopBound(k);
        for (int i = 0; i < m; i++) {
            long ai = aOff + (long) i * lda, ci = cOff + (long) i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                long b0 = bOff + (long) j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                FloatVector s0 = FloatVector.zero(FLOAT), s1 = s0, s2 = s0, s3 = s0;
                for (int p = 0; p < bound; p += L) {
                    FloatVector av = FloatVector.fromMemorySegment(FLOAT, a, (ai + p) * Float.BYTES, ORDER);
                    s0 = av.fma(FloatVector.fromMemorySegment(FLOAT, b, (b0 + p) * Float.BYTES, ORDER), s0);
                    s1 = av.fma(FloatVector.fromMemorySegment(FLOAT, b, (b1 + p) * Float.BYTES, ORDER), s1);
                    s2 = av.fma(FloatVector.fromMemorySegment(FLOAT, b, (b2 + p) * Float.BYTES, ORDER), s2);
                    s3 = av.fma(FloatVector.fromMemorySegment(FLOAT, b, (b3 + p) * Float.BYTES, ORDER), s3);
                }
                // each sum's lanes added in SimdSpecies' butterfly order, written out: a vector
                // handed to a method the JIT leaves out of line is boxed
                if (L > 8) {
                    s0 = s0.add(s0.rearrange(SimdSpecies.SWAP_8));
                    s1 = s1.add(s1.rearrange(SimdSpecies.SWAP_8));
                    s2 = s2.add(s2.rearrange(SimdSpecies.SWAP_8));
                    s3 = s3.add(s3.rearrange(SimdSpecies.SWAP_8));
                }
                if (L > 4) {
                    s0 = s0.add(s0.rearrange(SimdSpecies.SWAP_4));
                    s1 = s1.add(s1.rearrange(SimdSpecies.SWAP_4));
                    s2 = s2.add(s2.rearrange(SimdSpecies.SWAP_4));
                    s3 = s3.add(s3.rearrange(SimdSpecies.SWAP_4));
                }
                if (L > 2) {
                    s0 = s0.add(s0.rearrange(SimdSpecies.SWAP_2));
                    s1 = s1.add(s1.rearrange(SimdSpecies.SWAP_2));
                    s2 = s2.add(s2.rearrange(SimdSpecies.SWAP_2));
                    s3 = s3.add(s3.rearrange(SimdSpecies.SWAP_2));
                }
                if (L > 1) {
                    s0 = s0.add(s0.rearrange(SimdSpecies.SWAP_1));
                    s1 = s1.add(s1.rearrange(SimdSpecies.SWAP_1));
                    s2 = s2.add(s2.rearrange(SimdSpecies.SWAP_1));
                    s3 = s3.add(s3.rearrange(SimdSpecies.SWAP_1));
                }
                dotStore(s0.lane(0), a, ai, b, b0, bound, k, alpha, beta, c, ci + j);
                dotStore(s1.lane(0), a, ai, b, b1, bound, k, alpha, beta, c, ci + j + 1);
                dotStore(s2.lane(0), a, ai, b, b2, bound, k, alpha, beta, c, ci + j + 2);
                dotStore(s3.lane(0), a, ai, b, b3, bound, k, alpha, beta, c, ci + j + 3);
            }
            for (; j < n; j++) {
                long bj = bOff + (long) j * ldb;
                FloatVector acc = FloatVector.zero(FLOAT);
                for (int p = 0; p < bound; p += L) {
                    acc = FloatVector.fromMemorySegment(FLOAT, a, (ai + p) * Float.BYTES, ORDER)
                            .fma(FloatVector.fromMemorySegment(FLOAT, b, (bj + p) * Float.BYTES, ORDER), acc);
                }
                if (L > 8) {
                    acc = acc.add(acc.rearrange(SimdSpecies.SWAP_8));
                }
                if (L > 4) {
                    acc = acc.add(acc.rearrange(SimdSpecies.SWAP_4));
                }
                if (L > 2) {
                    acc = acc.add(acc.rearrange(SimdSpecies.SWAP_2));
                }
                if (L > 1) {
                    acc = acc.add(acc.rearrange(SimdSpecies.SWAP_1));
                }
                dotStore(acc.lane(0), a, ai, b, bj, bound, k, alpha, beta, c, ci + j);
            }
        }
    }

    /** Adds the products past the last whole vector to a dot product's lane sum, then {@code C[ci] = alpha * sum + beta * C[ci]}. */
    private static void dotStore(float sum, MemorySegment a, long ai, MemorySegment b, long bj, int from, int k,
                                 float alpha, float beta, MemorySegment c, long ci) {
        for (int p = from; p < k; p++) {
            sum += a.getAtIndex(JAVA_FLOAT, ai + p) * b.getAtIndex(JAVA_FLOAT, bj + p);
        }
        float out = alpha * sum;
        if (beta != 0f) {
            out += beta * c.getAtIndex(JAVA_FLOAT, ci);
        }
        c.setAtIndex(JAVA_FLOAT, ci, out);
    }

    /**
     * Packs op(B)[pc:pc+kc, jc:jc+nc] as panels of NR columns, each kc rows of NR floats; short
     * panels are zero-padded. B stored (k, n) is read a row at a time, left to right, each row's
     * NR-float pieces sent to their panels: read a panel at a time instead (NR floats from each of
     * kc rows, then the next NR), a B whose rows are 2 KiB or more apart puts every read on a page
     * of its own, where no prefetcher follows, and packing B ran at half the speed when B came
     * from memory (AMD EPYC Zen 4, AVX2, a 1024 x 1024 B: 1.27 ms against 0.72 ms; it was 6 % of
     * the GEMM 1024³), while from cache this order costs a quarter more (0.34 against 0.26 ms).
     */
    private static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc,
                              float[] dst) {
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                long src = bOff + (long) (pc + p) * ldb + jc;
                for (int jr = 0, d = p * NR; jr < nc; jr += NR, d += kc * NR) {
                    int w = Math.min(NR, nc - jr);
                    // bulk copies, not vector moves, which C2 once left unintrinsified here inside
                    // a training step (141.7 MB boxed per step: bench/README)
                    MemorySegment.copy(b, JAVA_FLOAT, (src + jr) * Float.BYTES, dst, d, w);
                    if (w < NR) {
                        Arrays.fill(dst, d + w, d + NR, 0f);
                    }
                }
            }
            return;
        }
        for (int jr = 0; jr < nc; jr += NR) {
            int w = Math.min(NR, nc - jr);
            int panel = jr / NR * kc * NR;
            // B stored (n, k): read each of the panel's w rows of B along k, where it is
            // contiguous, and write it down a column of the panel (which stays in L1). The
            // other order read w floats ldb apart for every p: at ldb = 1024 each one its own
            // page, all in the same cache sets.
            for (int jj = 0; jj < w; jj++) {
                long src = bOff + (long) (jc + jr + jj) * ldb + pc;
                for (int p = 0, d = panel + jj; p < kc; p++, d += NR) {
                    dst[d] = b.getAtIndex(JAVA_FLOAT, src + p);
                }
            }
            if (w < NR) {
                for (int p = 0, d = panel; p < kc; p++, d += NR) {
                    Arrays.fill(dst, d + w, d + NR, 0f);
                }
            }
        }
    }

    /**
     * Packs op(A)[ic:ic+mc, pc:pc+kc] into a block of mc rows rounded up to MR, the rows past mc
     * zero, in the layout its micro-kernel reads with the loop counter. A stored (m, k): by rows,
     * element (i, p) at i * KC + p, one bulk copy per row. A stored (k, m): in strips of MR rows,
     * element (i, p) at (i / MR) * MR * KC + p * MR + i % MR, so that a tile reads its A in one
     * stream, one 128-bit move per p and strip. Before, that A was packed by columns (element
     * (i, p) at p * MC + i, one bulk copy per stored row), so a tile read 16 bytes per step of a
     * 320-byte stride, four times the cache lines it used: the GEMM 1024³ TN on one thread under
     * AVX2 (AMD EPYC Zen 4, best of 4 s per JVM) ran 80.1-88.7 GFLOPS that way, 93.0-97.0 in
     * strips; at the tasks' small shapes (800x64x64, 800x128x64), where A is used by few panels
     * of B, the strips' packing costs 4 % (92.3-94.6 against 88.3-91.6 GFLOPS). Strips first and
     * p inside reads A down its columns; the other order wrote 16 KiB apart and ran the small
     * shapes at 61-66.
     */
    private static void packA(boolean transA, MemorySegment a, long aOff, int lda, int ic, int mc, int pc, int kc,
                              float[] dst) {
        int rows = (mc + MR - 1) / MR * MR;
        if (!transA) {
            for (int i = 0; i < mc; i++) {
                MemorySegment.copy(a, JAVA_FLOAT, (aOff + (long) (ic + i) * lda + pc) * Float.BYTES, dst, i * KC, kc);
            }
            for (int i = mc; i < rows; i++) {
                Arrays.fill(dst, i * KC, i * KC + kc, 0f);
            }
            return;
        }
        int whole = mc / MR * MR;
        for (int i = 0; i < whole; i += MR) {
            long src = (aOff + (long) pc * lda + ic + i) * Float.BYTES, step = (long) lda * Float.BYTES;
            for (int p = 0, d = i * KC; p < kc; p++, src += step, d += MR) {
                FloatVector.fromMemorySegment(STRIP, a, src, ORDER).intoArray(dst, d);
            }
        }
        if (whole < rows) {
            for (int p = 0; p < kc; p++) {
                int d = whole * KC + p * MR;
                for (int r = 0; r < MR; r++) {
                    dst[d + r] = whole + r < mc ? a.getAtIndex(JAVA_FLOAT, aOff + (long) (pc + p) * lda + ic + whole + r) : 0f;
                }
            }
        }
    }

    @Override
    public void addBias(MemorySegment y, MemorySegment bias, int rowFrom, int rowTo, int cols) {
        int bound = FLOAT.loopBound(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long row = (long) r * cols;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector.fromMemorySegment(FLOAT, y, (row + j) * Float.BYTES, ORDER)
                        .add(FloatVector.fromMemorySegment(FLOAT, bias, j * Float.BYTES, ORDER))
                        .intoMemorySegment(y, (row + j) * Float.BYTES, ORDER);
            }
            for (; j < cols; j++) {
                y.setAtIndex(JAVA_FLOAT, row + j, y.getAtIndex(JAVA_FLOAT, row + j) + bias.getAtIndex(JAVA_FLOAT, j));
            }
        }
    }

    @Override
    public void biasGrad(MemorySegment dy, MemorySegment dBias, int rows, int cols, int colFrom, int colTo) {
        int j = colFrom;
        // each vector of columns walks all rows in order, as the scalar sum does per column
        for (int bound = colFrom + FLOAT.loopBound(colTo - colFrom); j < bound; j += L) {
            FloatVector s = FloatVector.zero(FLOAT);
            for (int r = 0; r < rows; r++) {
                s = s.add(FloatVector.fromMemorySegment(FLOAT, dy, ((long) r * cols + j) * Float.BYTES, ORDER));
            }
            FloatVector.fromMemorySegment(FLOAT, dBias, j * Float.BYTES, ORDER)
                    .add(s)
                    .intoMemorySegment(dBias, j * Float.BYTES, ORDER);
        }
        EDGES.biasGrad(dy, dBias, rows, cols, j, colTo);
    }
}
