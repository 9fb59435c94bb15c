package dev.panamaformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Multi-head attention without the (Tq, Tk) score matrix: {@code O = dropout(softmax(scale · Q Kᵀ
 * + mask)) V} for every (sequence, head) of a batch, block by block over keys with an online
 * max and normalizer, saving only each query's log-sum-exp for the backward pass (see
 * {@link BlockedAttention}). Memory beyond the inputs and outputs is linear in the sequence
 * length: the log-sum-exp (B·h·Tq floats), Kᵀ and Vᵀ of every head (2·B·h·d_k·Tk floats, kept
 * between calls and grown as needed), dO · O of each query in the backward pass (B·h·Tq floats),
 * and a scratch per thread of about 290 KiB plus 2 KiB per unit of d_k.
 *
 * <p>Operands are {@link MatrixBatch} grids over (sequence, head): Q, O, dO, dQ hold (Tq, d_k)
 * matrices, K, V, dK, dV (Tk, d_k) ones, e.g. head h of sequence b of a (B*T, C) tensor is
 * {@code new MatrixBatch(t, 0, C, T * C, d_k)}. Masks and dropout mean what they mean for
 * {@link Softmax#forward(FloatTensor, FloatTensor, int, int, RowMask)} and {@link Dropout} over
 * the (B, h, Tq, Tk) scores, so both paths give the same result and drop the same probabilities.
 *
 * <p>Threads split the forward pass over (sequence, head, block of queries) and the backward
 * pass over (sequence, head): the gradient of one head's keys and values sums over all its
 * queries, and one thread owning the head keeps that sum in a fixed order. Results are
 * bit-identical for any thread count.
 *
 * <p>Thread-safe: many threads may call one instance at once, without waiting for each other. A
 * call takes its buffers (the transposed heads and each part's scratch) from a pool of this
 * instance and gives them back when it returns. Buffers grow to the largest call they served and
 * are kept, so a call allocates nothing once the pool holds a job that large; what stays is at
 * most {@link ScratchPool#defaultSlots()} jobs' buffers.
 */
public final class FusedAttention {
    private final BlockedAttention algorithm;
    private final Parallel parallel;
    private final ScratchPool<Job> jobs;

    private final ElementwiseKernel elementwise;

    FusedAttention(AttentionKernel kernel, ElementwiseKernel elementwise, DropoutKernel dropout, BiasKernel bias,
                   Parallel parallel) {
        this.algorithm = new BlockedAttention(kernel, elementwise, dropout, bias);
        this.elementwise = elementwise;
        this.parallel = parallel;
        this.jobs = new ScratchPool<>(ScratchPool.defaultSlots(), Job::new);
    }

    /**
     * {@code O = dropout(softmax(scale · Q Kᵀ + bias + mask)) V} and {@code lse} (B·h·Tq) = the
     * log-sum-exp of each query's masked, scaled scores (the mask's {@link PositionBias}, if
     * any, added unscaled) ({@code -inf} where no key is visible;
     * such a query gets O = 0). Dropout drops each probability with probability {@code dropout}
     * under {@code seed}; 0 turns it off.
     */
    public void forward(AttentionShape shape, float scale, MatrixBatch q, MatrixBatch k, MatrixBatch v,
                                     RowMask mask, float dropout, long seed, MatrixBatch o, FloatTensor lse) {
        String op = "fused attention";
        checkCommon(op, shape, scale, q, k, v, mask, dropout, o, lse);
        int units = shape.batch() * shape.heads() * BlockedAttention.queryBlocks(shape.queries());
        if (units == 0) {
            return;
        }
        Job job = jobs.take();
        try {
            job.set(shape, scale, q, k, v, mask, dropout, seed, o, lse, false);
            Parallel par = parallel.over(q.tensor(), k.tensor(), v.tensor(), o.tensor()).over(lse, mask.additive(),
                    mask.bias() == null ? null : mask.bias().table());
            int heads = shape.batch() * shape.heads();
            job.run(par, Job.TRANSPOSE, heads, (long) shape.keys() * shape.headSize());
            job.run(par, Job.FORWARD, units, (long) BlockedAttention.QUERY_BLOCK * shape.keys() * Math.max(1, shape.headSize()) * 2);
        } finally {
            job.call.clear();
            jobs.give(job);
        }
    }

    /**
     * Adds the gradients of the forward pass's loss to {@code dq}, {@code dk} and {@code dv}, given
     * {@code dO}, from Q, K, V, the forward output O and its log-sum-exp; the same mask, dropout
     * and seed as the forward call.
     */
    public void backward(AttentionShape shape, float scale, MatrixBatch q, MatrixBatch k, MatrixBatch v,
                                      RowMask mask, float dropout, long seed, MatrixBatch o, FloatTensor lse,
                                      MatrixBatch dO, MatrixBatch dq, MatrixBatch dk, MatrixBatch dv) {
        backward(shape, scale, q, k, v, mask, dropout, seed, o, lse, dO, dq, dk, dv, null);
    }

    /**
     * {@link #backward(AttentionShape, float, MatrixBatch, MatrixBatch, MatrixBatch, RowMask, float, long, MatrixBatch,
     * FloatTensor, MatrixBatch, MatrixBatch, MatrixBatch, MatrixBatch) backward}, and also adds the gradient of
     * the mask's position bias table to {@code dBiasTable} (of the table's shape; null: not
     * wanted, as for a fixed bias such as ALiBi's). Each (sequence, head) sums its share in a
     * buffer of its own, and the shares of each head are added in order of sequence, so the
     * result does not depend on the thread count. The scale must not be 0 then.
     */
    public void backward(AttentionShape shape, float scale, MatrixBatch q, MatrixBatch k, MatrixBatch v,
                                      RowMask mask, float dropout, long seed, MatrixBatch o, FloatTensor lse,
                                      MatrixBatch dO, MatrixBatch dq, MatrixBatch dk, MatrixBatch dv, FloatTensor dBiasTable) {
        String op = "fused attention backward";
        checkCommon(op, shape, scale, q, k, v, mask, dropout, o, lse);
        int tq = shape.queries(), tk = shape.keys(), d = shape.headSize();
        check(op, "dO", dO, shape, tq, d);
        check(op, "dq", dq, shape, tq, d);
        check(op, "dk", dk, shape, tk, d);
        check(op, "dv", dv, shape, tk, d);
        // each gradient is written while every other operand is read
        outputApart(op, "dq", dq.tensor(), q, k, v, o, lse, dO, dk.tensor(), dv.tensor());
        outputApart(op, "dk", dk.tensor(), q, k, v, o, lse, dO, dq.tensor(), dv.tensor());
        outputApart(op, "dv", dv.tensor(), q, k, v, o, lse, dO, dq.tensor(), dk.tensor());
        PositionBias pb = mask.bias();
        if (dBiasTable != null) {
            if (pb == null) {
                throw new IllegalArgumentException(op + ": a bias table gradient was given, but the mask has no position bias");
            }
            if (!Float.isFinite(1f / scale)) {
                throw new IllegalArgumentException(op + ": the bias table's gradient divides by the scale, which must not be 0"
                        + " or so small that 1 / scale overflows, got " + scale);
            }
            Checks.sameShape(op, pb.table(), "position bias table", dBiasTable, "dBiasTable");
            outputApart(op, "dBiasTable", dBiasTable, q, k, v, o, lse, dO, dq.tensor(), dk.tensor());
            apart(op, dv.tensor(), "dv", dBiasTable, "dBiasTable");
            apart(op, pb.table(), "position bias table", dBiasTable, "dBiasTable");
        }
        if (pb != null) {
            // the workers read the table while they write the gradients
            apart(op, pb.table(), "position bias table", dq.tensor(), "dq");
            apart(op, pb.table(), "position bias table", dk.tensor(), "dk");
            apart(op, pb.table(), "position bias table", dv.tensor(), "dv");
        }
        int units = shape.batch() * shape.heads();
        if (units == 0 || tq == 0 || tk == 0) {
            return;
        }
        Job job = jobs.take();
        try {
            job.set(shape, scale, q, k, v, mask, dropout, seed, o, lse, true);
            BlockedAttention.Call call = job.call;
            call.dO = dO;
            call.dq = dq;
            call.dk = dk;
            call.dv = dv;
            long rows = shape.rows();
            if (job.rowDots == null || job.rowDots.byteSize() < rows * Float.BYTES) {
                job.rowDots = Arena.ofAuto().allocate(rows * Float.BYTES, FloatTensor.ALIGNMENT);
            }
            call.rowDot = job.rowDots;
            int width = pb == null ? 0 : 2 * pb.span() + 1;
            if (dBiasTable != null) {
                long floats = (long) units * width;
                if (job.biasGrads == null || job.biasGrads.byteSize() < floats * Float.BYTES) {
                    job.biasGrads = Arena.ofAuto().allocate(floats * Float.BYTES, FloatTensor.ALIGNMENT);
                }
                call.biasGrad = job.biasGrads;
            }
            Parallel par = parallel.over(q.tensor(), k.tensor(), v.tensor(), o.tensor()).over(lse, dO.tensor(), dq.tensor(),
                    dk.tensor()).over(dv.tensor(), mask.additive(), pb == null ? null : pb.table(), dBiasTable);
            job.run(par, Job.BACKWARD, units, (long) tq * tk * Math.max(1, d) * 4);
            if (dBiasTable != null) {
                // each head's shares, in order of sequence
                for (int h = 0; h < shape.heads(); h++) {
                    for (int b = 0; b < shape.batch(); b++) {
                        elementwise.addTo(job.biasGrads, ((long) b * shape.heads() + h) * width, dBiasTable.segment(),
                                (long) h * width, width);
                    }
                }
            }
        } finally {
            job.call.clear();
            jobs.give(job);
        }
    }

    /**
     * One call's state as a parallel task: its arguments, held in fields so that a call allocates
     * nothing, and its buffers, kept and grown with the job. A call owns its job from
     * {@link ScratchPool#take} to {@link ScratchPool#give}.
     */
    private final class Job implements Parallel.PartTask {
        static final int TRANSPOSE = 0;
        static final int FORWARD = 1;
        static final int BACKWARD = 2;

        private final BlockedAttention.Call call = new BlockedAttention.Call();
        private final BlockedAttention.Scratch[] scratch = new BlockedAttention.Scratch[parallel.threads()];
        private MemorySegment transposedK;     // Kᵀ of every head of the largest call so far
        private MemorySegment transposedV;     // Vᵀ likewise, for the backward pass
        private MemorySegment rowDots;         // dO · O of each query of the largest backward call so far
        private MemorySegment biasGrads;       // each (sequence, head)'s share of a bias table's gradient
        private int mode;

        void set(AttentionShape shape, float scale, MatrixBatch q, MatrixBatch k, MatrixBatch v, RowMask mask,
                 float dropout, long seed, MatrixBatch o, FloatTensor lse, boolean backward) {
            long size = BlockedAttention.transposedSize(shape);
            if (transposedK == null || transposedK.byteSize() < size * Float.BYTES) {
                // an automatic arena: a Kernels instance has no close(), so the collector frees the
                // buffers once this job, or a larger call's buffers, replace them; sliced here,
                // once, not per call, which would allocate two segment objects on every call
                MemorySegment both = Arena.ofAuto().allocate(2 * size * Float.BYTES, FloatTensor.ALIGNMENT);
                transposedK = both.asSlice(0, size * Float.BYTES);
                transposedV = both.asSlice(size * Float.BYTES, size * Float.BYTES);
            }
            BlockedAttention.Call c = call;
            c.kt = transposedK;
            c.vt = backward ? transposedV : null;
            c.shape = shape;
            c.scale = scale;
            c.q = q;
            c.k = k;
            c.v = v;
            c.o = o;
            c.lse = lse.segment();
            c.mask = mask.additive() == null ? null : mask.additive().segment();
            c.rowsPerMaskRow = mask.rowsPerMaskRow();
            c.causalPeriod = mask.causalPeriod();
            c.threshold = DropoutKernel.threshold(dropout);
            c.keepScale = 1f / (1f - dropout);
            c.seed = seed;
            c.bias = mask.bias();
            c.biasTable = c.bias == null ? null : c.bias.table().segment();
        }

        void run(Parallel par, int mode, int units, long workPerUnit) {
            if (scratch[0] == null) {
                Arena arena = Arena.ofAuto();
                for (int t = 0; t < scratch.length; t++) {
                    scratch[t] = algorithm.newScratch(arena);
                }
            }
            for (BlockedAttention.Scratch s : scratch) {
                s.fit(call.shape.headSize());
            }
            this.mode = mode;
            int parts = par.parts(units, workPerUnit);
            par.forParts(units, parts, Parallel.chunks(units, workPerUnit, parts), this);
        }

        @Override
        public void run(int part, int from, int to) {
            for (int unit = from; unit < to; unit++) {
                switch (mode) {
                    case TRANSPOSE -> algorithm.transposeHead(call, unit);
                    case FORWARD -> algorithm.forward(call, scratch[part], unit);
                    default -> algorithm.backward(call, scratch[part], unit);
                }
            }
        }
    }

    private static void checkCommon(String op, AttentionShape shape, float scale, MatrixBatch q, MatrixBatch k,
                                    MatrixBatch v, RowMask mask, float dropout, MatrixBatch o, FloatTensor lse) {
        if (shape == null) {
            throw new IllegalArgumentException(op + ": shape is null");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        }
        if (mask == null) {
            throw new IllegalArgumentException(op + ": mask is null; use RowMask.NONE");
        }
        Checks.probability(op, "dropout", dropout);
        int tq = shape.queries(), tk = shape.keys(), d = shape.headSize();
        long rows = shape.rows();
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + shape + " has " + rows + " query rows, more than 2^31 - 1");
        }
        if (dropout > 0f && rows * tk > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": dropout indexes the " + rows * tk + " scores of " + shape
                    + " with 31 bits; at most 2^31 - 1 scores per call");
        }
        check(op, "q", q, shape, tq, d);
        check(op, "k", k, shape, tk, d);
        check(op, "v", v, shape, tk, d);
        check(op, "o", o, shape, tq, d);
        Checks.vector(lse, op, "lse", rows);
        FloatTensor add = mask.additive();
        if (add != null) {
            long maskRows = rows == 0 ? 0 : (rows - 1) / mask.rowsPerMaskRow() + 1;
            Checks.matrix(add, op, "additive mask", (int) maskRows, tk);
        }
        apart(op, q.tensor(), "q", o.tensor(), "o");
        apart(op, k.tensor(), "k", o.tensor(), "o");
        apart(op, v.tensor(), "v", o.tensor(), "o");
        apart(op, add, "additive mask", o.tensor(), "o");
        apart(op, q.tensor(), "q", lse, "lse");
        apart(op, k.tensor(), "k", lse, "lse");
        apart(op, v.tensor(), "v", lse, "lse");
        apart(op, add, "additive mask", lse, "lse");
        apart(op, o.tensor(), "o", lse, "lse");
        PositionBias pb = mask.bias();
        if (pb != null) {
            if (pb.queries() != tq) {
                throw new IllegalArgumentException(op + ": the position bias numbers queries in sequences of " + pb.queries()
                        + ", the shape " + shape + " of " + tq);
            }
            pb.check(op, rows, tk, shape.heads());
            apart(op, pb.table(), "position bias table", o.tensor(), "o");
            apart(op, pb.table(), "position bias table", lse, "lse");
        }
    }

    private static void outputApart(String op, String name, FloatTensor out, MatrixBatch q, MatrixBatch k, MatrixBatch v,
                                    MatrixBatch o, FloatTensor lse, MatrixBatch dO, FloatTensor other1, FloatTensor other2) {
        apart(op, q.tensor(), "q", out, name);
        apart(op, k.tensor(), "k", out, name);
        apart(op, v.tensor(), "v", out, name);
        apart(op, o.tensor(), "o", out, name);
        apart(op, lse, "lse", out, name);
        apart(op, dO.tensor(), "dO", out, name);
        apart(op, other1, "another gradient", out, name);
        apart(op, other2, "another gradient", out, name);
    }

    /** An output must not share memory with what the call reads; pass Q, K, V and each gradient in tensors of their own. */
    private static void apart(String op, FloatTensor in, String inName, FloatTensor out, String outName) {
        if (in != null) {
            Checks.disjoint(in, inName, out, op + ": " + outName);
        }
    }

    /** {@code x} holds a (batch, heads) grid of (rows, cols) matrices. */
    private static void check(String op, String name, MatrixBatch x, AttentionShape shape, int rows, int cols) {
        if (x == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        FloatTensor t = x.tensor();
        if (!t.isAlive()) {
            t.checkAlive(op + ": " + name);
        }
        if (x.ld() < cols) {
            throw new IllegalArgumentException(op + ": leading dimension " + x.ld() + " of " + name + " is less than the head size "
                    + cols + " of " + shape);
        }
        if (shape.batch() == 0 || shape.heads() == 0 || rows == 0 || cols == 0) {
            return;
        }
        long end = x.start(shape.batch() - 1, shape.heads() - 1) + (long) (rows - 1) * x.ld() + cols;
        if (end > t.size()) {
            throw new IllegalArgumentException(op + ": " + name + " " + t + " (" + t.size() + " elements) is too small for "
                    + shape + ": its last (" + rows + ", " + cols + ") matrix at strides (" + x.stride0() + ", " + x.stride1()
                    + ") and leading dimension " + x.ld() + " ends at element " + end);
        }
    }
}
