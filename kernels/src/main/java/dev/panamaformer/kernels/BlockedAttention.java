package dev.panamaformer.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Attention computed block by block over keys with a running max and normalizer per query
 * (online softmax; FlashAttention, Dao et al. 2022), so that no (Tq, Tk) score matrix exists:
 * a thread holds one (96, 256) block of scores at a time. The forward pass saves the
 * log-sum-exp of each query's scores; the backward pass recomputes the probabilities from it.
 *
 * <p>The same algorithm serves the scalar and the SIMD kernels: every step is an
 * {@link AttentionKernel} call. K (and V, for the backward pass) are first transposed per head,
 * so that every block product reads rows of its right-hand operand. Every output element is
 * computed by one task in a fixed order (key blocks ascending, then query blocks ascending), so
 * the results do not depend on how tasks are spread over threads.
 */
final class BlockedAttention {
    /** Queries per block: a multiple of every register tile's rows (4, 6) and of the column tile (6). */
    static final int QUERY_BLOCK = 96;
    /**
     * Keys per block: three (96, 256) blocks of scores and a (d_k, 256) block of Kᵀ stay in L2 at
     * d_k = 64; 256 measured 6 % faster than 128 in the forward pass at T = 4096 (fewer calls and
     * rescales per score row), and no slower in the backward pass: 237/233 against 250/250 ms in
     * alternating runs of {@code bench/run AttentionBenchmark.fused -p length=4096 -f 1 -wi 1 -i 4}.
     */
    static final int KEY_BLOCK = 256;

    private final AttentionKernel kernel;
    private final ElementwiseKernel elementwise;   // of the same kernel set: scales, zeroes, adds and dots rows
    private final DropoutKernel dropout;           // likewise: the probabilities' dropout
    private final BiasKernel bias;                 // likewise: a position bias and its gradient

    BlockedAttention(AttentionKernel kernel, ElementwiseKernel elementwise, DropoutKernel dropout, BiasKernel bias) {
        this.kernel = kernel;
        this.elementwise = elementwise;
        this.dropout = dropout;
        this.bias = bias;
    }

    /** One thread's scratch for this algorithm's kernel. */
    Scratch newScratch(Arena arena) {
        return new Scratch(arena, kernel.tileFloats());
    }

    /**
     * One thread's scratch: three (QUERY_BLOCK, KEY_BLOCK) score blocks, the products' tile,
     * per-query state, and the sums the products add into, held contiguous here rather than in
     * the callers' tensors, whose rows lie a whole (T, C) row apart and fall into few cache sets.
     */
    static final class Scratch {
        final MemorySegment p;             // probabilities of one block, before dropout
        final MemorySegment dropped;       // the same after dropout (backward only)
        final MemorySegment dScores;       // gradient of the dropped probabilities, then of the scores
        final MemorySegment tile;          // the kernel's product tile
        final float[] max = new float[QUERY_BLOCK];     // running max of each query's scores
        final float[] norm = new float[QUERY_BLOCK];    // running sum of exp(score - max)
        final int[] limits = new int[QUERY_BLOCK];      // keys [0, limit) are visible to each query
        /**
         * (2 * KEY_BLOCK, d_k), rows d_k apart: the forward pass's unnormalized O of a query
         * block in the first QUERY_BLOCK rows; the backward pass's dV, then dK, of a key block.
         */
        private MemorySegment sums;
        private int sumsHeadSize;

        private Scratch(Arena arena, int tileFloats) {
            long bytes = (long) QUERY_BLOCK * KEY_BLOCK * Float.BYTES;
            this.p = arena.allocate(bytes, FloatTensor.ALIGNMENT);
            this.dropped = arena.allocate(bytes, FloatTensor.ALIGNMENT);
            this.dScores = arena.allocate(bytes, FloatTensor.ALIGNMENT);
            this.tile = arena.allocate((long) tileFloats * Float.BYTES, FloatTensor.ALIGNMENT);
        }

        /** Makes {@link #sums} hold rows of {@code headSize}; allocates only when it grows. */
        void fit(int headSize) {
            if (headSize > sumsHeadSize) {
                sums = Arena.ofAuto().allocate(2L * KEY_BLOCK * headSize * Float.BYTES, FloatTensor.ALIGNMENT);
                sumsHeadSize = headSize;
            }
        }
    }

    /**
     * The arguments of one call, checked by {@link FusedAttention} and held in fields so that a
     * call allocates nothing.
     */
    static final class Call {
        AttentionShape shape;
        float scale;
        MatrixBatch q, k, v, o, dO, dq, dk, dv;
        MemorySegment lse;                 // (B*h*Tq) log-sum-exp of each query's scores
        MemorySegment mask;                // additive (rows / rowsPerMaskRow, Tk), or null
        int rowsPerMaskRow;
        int causalPeriod;
        int threshold;                     // dropout: see DropoutKernel#apply; 0 keeps every score
        float keepScale;
        long seed;
        MemorySegment kt;                  // (B*h, d_k, Tk): scale · Kᵀ of every head
        MemorySegment vt;                  // (B*h, d_k, Tk): Vᵀ of every head (backward only)
        MemorySegment rowDot;              // (B*h*Tq) dO · O of each query (backward only)
        PositionBias bias;                 // added to the scores before the mask, or null
        MemorySegment biasTable;           // its (h, 2 * span + 1) table
        /** (B*h, 2 * span + 1): each (sequence, head)'s share of the bias table's gradient (backward only), or null. */
        MemorySegment biasGrad;

        void clear() {
            shape = null;
            q = k = v = o = dO = dq = dk = dv = null;
            lse = mask = kt = vt = rowDot = biasTable = biasGrad = null;
            bias = null;
        }

        /** Bias table entry of distance 0 for head {@code h}. */
        long biasCenter(int h) {
            int span = bias.span();
            return (long) h * (2 * span + 1) + span;
        }
    }

    static int queryBlocks(int queries) {
        return (queries + QUERY_BLOCK - 1) / QUERY_BLOCK;
    }

    /** Floats of one transposed operand of a call: (B*h, d_k, Tk). */
    static long transposedSize(AttentionShape shape) {
        return (long) shape.batch() * shape.heads() * shape.headSize() * shape.keys();
    }

    /** Visible keys of each of {@code count} score rows from {@code row0} into {@code limits}; returns the largest. */
    private static int limits(Call c, long row0, int count, int[] limits) {
        int keys = c.shape.keys(), visible = 0;
        for (int r = 0; r < count; r++) {
            limits[r] = ScalarSoftmax.causalLimit((int) (row0 + r), keys, c.causalPeriod);
            visible = Math.max(visible, limits[r]);
        }
        return visible;
    }

    private static long maskOffset(Call c, long row) {
        return c.mask == null ? 0 : (row / c.rowsPerMaskRow) * c.shape.keys();
    }

    /** Adds the position bias of query {@code i} of sequence {@code b}, head {@code h}, to its scores of keys {@code [j0, j0 + n)} at {@code s}. */
    private void addBias(Call c, MemorySegment scores, long s, int b, int h, int i, int j0, int n) {
        PositionBias pb = c.bias;
        bias.add(scores, s, c.biasTable, c.biasCenter(h), pb.span(), pb.keyIds(), b * pb.keyStride() + j0,
                pb.queryIds()[b * pb.queries() + i], n);
    }

    /** scale · Kᵀ of head {@code bh} (in (sequence, head) order) into the call's {@code kt}, and Vᵀ into {@code vt} when it has one. */
    void transposeHead(Call c, int bh) {
        int heads = c.shape.heads(), tk = c.shape.keys(), d = c.shape.headSize();
        int b = bh / heads, h = bh % heads;
        long off = (long) bh * d * tk;
        // the scale goes into Kᵀ once instead of into every score
        kernel.transpose(c.k.tensor().segment(), c.k.start(b, h), c.k.ld(), tk, d, c.scale, c.kt, off, tk);
        if (c.vt != null) {
            kernel.transpose(c.v.tensor().segment(), c.v.start(b, h), c.v.ld(), tk, d, 1f, c.vt, off, tk);
        }
    }

    /**
     * The forward pass of one query block, after {@link #transposeHead} of its head: work item
     * {@code unit} is block {@code unit % queryBlocks} of head {@code unit / queryBlocks} in
     * (sequence, head) order. Writes O and the log-sum-exp of the block's queries.
     */
    void forward(Call c, Scratch w, int unit) {
        AttentionShape shape = c.shape;
        int heads = shape.heads(), tq = shape.queries(), tk = shape.keys(), d = shape.headSize();
        int qBlocks = queryBlocks(tq), bh = unit / qBlocks, i0 = (unit % qBlocks) * QUERY_BLOCK;
        int b = bh / heads, h = bh % heads, br = Math.min(QUERY_BLOCK, tq - i0);
        long row0 = (long) bh * tq + i0;
        MemorySegment q = c.q.tensor().segment(), v = c.v.tensor().segment(), o = c.o.tensor().segment();
        MemorySegment sums = w.sums;       // (br, d): O before the division by each row's normalizer
        int ldq = c.q.ld(), ldv = c.v.ld(), ldo = c.o.ld();
        long qOff = c.q.start(b, h) + (long) i0 * ldq, vOff = c.v.start(b, h), ktOff = (long) bh * d * tk;
        long oOff = c.o.start(b, h) + (long) i0 * ldo;
        float[] max = w.max, norm = w.norm;
        int[] limits = w.limits;
        int visible = limits(c, row0, br, limits);
        for (int r = 0; r < br; r++) {
            max[r] = ScalarSoftmax.LOWEST;
            norm[r] = 0f;
        }
        elementwise.zero(sums, 0, br * d);
        for (int j0 = 0; j0 < visible; j0 += KEY_BLOCK) {
            int bc = Math.min(KEY_BLOCK, tk - j0);
            kernel.product(br, bc, d, q, qOff, ldq, 1, c.kt, ktOff + j0, tk, false, w.p, 0, KEY_BLOCK, w.tile);
            for (int r = 0; r < br; r++) {
                long s = (long) r * KEY_BLOCK;
                int n = Math.clamp(limits[r] - j0, 0, bc);
                if (n == 0) {
                    elementwise.zero(w.p, s, bc);
                    continue;
                }
                if (c.bias != null) {
                    addBias(c, w.p, s, b, h, i0 + r, j0, n);
                }
                float blockMax = kernel.addMaskMax(w.p, s, c.mask, maskOffset(c, row0 + r) + j0, n);
                float m = Math.max(max[r], blockMax);
                float sum = kernel.expSum(w.p, s, n, bc, m);
                float rescale = (float) Math.exp(max[r] - m);
                if (rescale != 1f) {
                    elementwise.scale(sums, (long) r * d, sums, (long) r * d, d, rescale);
                }
                norm[r] = norm[r] * rescale + sum;
                max[r] = m;
                if (c.threshold > 0) {
                    dropout.apply(w.p, s, w.p, s, n, (int) ((row0 + r) * tk + j0), c.threshold, c.keepScale, c.seed);
                }
            }
            kernel.product(br, d, bc, w.p, 0, KEY_BLOCK, 1, v, vOff + (long) j0 * ldv, ldv, true, sums, 0, d, w.tile);
        }
        for (int r = 0; r < br; r++) {
            long row = oOff + (long) r * ldo;
            if (norm[r] > 0f) {
                elementwise.scale(sums, (long) r * d, o, row, d, 1f / norm[r]);
                c.lse.setAtIndex(JAVA_FLOAT, row0 + r, max[r] + (float) Math.log(norm[r]));
            } else {
                // no visible key with a finite score: the materialized softmax gives all zeros too
                elementwise.zero(o, row, d);
                c.lse.setAtIndex(JAVA_FLOAT, row0 + r, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /**
     * The backward pass of one (sequence, head), {@code bh} in (sequence, head) order: transposes
     * its K and V and takes dO · O of each query, then adds its gradients into dQ, dK and dV. Key
     * blocks are the outer loop, so that each block of dK and dV gathers its sum over queries in
     * the scratch and reaches the gradient tensors once.
     */
    void backward(Call c, Scratch w, int bh) {
        transposeHead(c, bh);
        AttentionShape shape = c.shape;
        int heads = shape.heads(), tq = shape.queries(), tk = shape.keys(), d = shape.headSize();
        int b = bh / heads, h = bh % heads;
        MemorySegment q = c.q.tensor().segment(), k = c.k.tensor().segment(), o = c.o.tensor().segment();
        MemorySegment dO = c.dO.tensor().segment();
        MemorySegment dq = c.dq.tensor().segment(), dk = c.dk.tensor().segment(), dv = c.dv.tensor().segment();
        MemorySegment sums = w.sums;       // (bc, d) dV of the key block, then (bc, d) dK
        long dkSums = (long) KEY_BLOCK * d;
        int ldq = c.q.ld(), ldk = c.k.ld(), ldo = c.o.ld(), lddo = c.dO.ld();
        int lddq = c.dq.ld(), lddk = c.dk.ld(), lddv = c.dv.ld();
        long qBase = c.q.start(b, h), kBase = c.k.start(b, h), oBase = c.o.start(b, h), tBase = (long) bh * d * tk;
        long dOBase = c.dO.start(b, h), dqBase = c.dq.start(b, h), dkBase = c.dk.start(b, h), dvBase = c.dv.start(b, h);
        long rows = (long) bh * tq;
        for (int i = 0; i < tq; i++) {
            // once per query, not once per key block: O is read nowhere else
            float dot = elementwise.dot(dO, dOBase + (long) i * lddo, o, oBase + (long) i * ldo, d);
            c.rowDot.setAtIndex(JAVA_FLOAT, rows + i, dot);
        }
        if (c.biasGrad != null) {
            int width = 2 * c.bias.span() + 1;
            elementwise.zero(c.biasGrad, (long) bh * width, width);
        }
        int[] limits = w.limits;
        for (int j0 = 0; j0 < tk; j0 += KEY_BLOCK) {
            int bc = Math.min(KEY_BLOCK, tk - j0);
            long kOff = kBase + (long) j0 * ldk, dkOff = dkBase + (long) j0 * lddk, dvOff = dvBase + (long) j0 * lddv;
            elementwise.zero(sums, 0, bc * d);
            elementwise.zero(sums, dkSums, bc * d);
            for (int i0 = 0; i0 < tq; i0 += QUERY_BLOCK) {
                int br = Math.min(QUERY_BLOCK, tq - i0);
                long row0 = rows + i0;
                if (limits(c, row0, br, limits) <= j0) {
                    continue; // no query of this block sees these keys
                }
                long qOff = qBase + (long) i0 * ldq, dOOff = dOBase + (long) i0 * lddo;
                kernel.product(br, bc, d, q, qOff, ldq, 1, c.kt, tBase + j0, tk, false, w.p, 0, KEY_BLOCK, w.tile);
                for (int r = 0; r < br; r++) {
                    long s = (long) r * KEY_BLOCK;
                    int n = Math.clamp(limits[r] - j0, 0, bc);
                    float lse = c.lse.getAtIndex(JAVA_FLOAT, row0 + r);
                    if (n == 0 || lse == Float.NEGATIVE_INFINITY) {
                        elementwise.zero(w.p, s, bc);
                        continue;
                    }
                    if (c.bias != null) {
                        addBias(c, w.p, s, b, h, i0 + r, j0, n);
                    }
                    if (c.mask != null) {
                        kernel.addMaskMax(w.p, s, c.mask, maskOffset(c, row0 + r) + j0, n);
                    }
                    kernel.expSum(w.p, s, n, bc, lse);
                }
                MemorySegment dropped = w.p;
                if (c.threshold > 0) {
                    dropped = w.dropped;
                    for (int r = 0; r < br; r++) {
                        long s = (long) r * KEY_BLOCK;
                        dropout.apply(w.p, s, dropped, s, bc, (int) ((row0 + r) * tk + j0), c.threshold, c.keepScale, c.seed);
                    }
                }
                // dV += dropped(P)ᵀ dO (A read transposed: row stride 1, column stride KEY_BLOCK);
                // the gradient of dropped(P) is dO Vᵀ
                kernel.product(bc, d, br, dropped, 0, 1, KEY_BLOCK, dO, dOOff, lddo, true, sums, 0, d, w.tile);
                kernel.product(br, bc, d, dO, dOOff, lddo, 1, c.vt, tBase + j0, tk, false, w.dScores, 0, KEY_BLOCK, w.tile);
                // scores = scale Q Kᵀ: with dS already times scale, dQ += dS K and dK += dSᵀ Q
                for (int r = 0; r < br; r++) {
                    long s = (long) r * KEY_BLOCK;
                    // where P is all zero (no visible key) the row's gradient is zero whatever rowDot is
                    float rowDot = c.rowDot.getAtIndex(JAVA_FLOAT, row0 + r);
                    kernel.scoreGrad(w.p, dropped, s, w.dScores, s, bc, rowDot, c.keepScale, c.scale);
                    if (c.biasGrad != null) {
                        // the scores' gradient, without the scale dS carries here for dQ and dK
                        int n = Math.clamp(limits[r] - j0, 0, bc);
                        int id = c.bias.queryIds()[b * tq + i0 + r];
                        bias.grad(w.dScores, s, 1f / c.scale, c.biasGrad, (long) bh * (2 * c.bias.span() + 1) + c.bias.span(),
                                c.bias.span(), c.bias.keyIds(), b * c.bias.keyStride() + j0, id, n);
                    }
                }
                kernel.product(br, d, bc, w.dScores, 0, KEY_BLOCK, 1, k, kOff, ldk, true, dq, dqBase + (long) i0 * lddq, lddq,
                        w.tile);
                kernel.product(bc, d, br, w.dScores, 0, 1, KEY_BLOCK, q, qOff, ldq, true, sums, dkSums, d, w.tile);
            }
            for (int r = 0; r < bc; r++) {
                elementwise.addTo(sums, (long) r * d, dv, dvOff + (long) r * lddv, d);
                elementwise.addTo(sums, dkSums + (long) r * d, dk, dkOff + (long) r * lddk, d);
            }
        }
    }
}
