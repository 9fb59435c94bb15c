package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Element-wise arithmetic and reductions over the first n elements of tensors. Reductions sum
 * fixed-size chunks separately and add the chunk results in order in double precision, so their
 * result does not depend on the thread count.
 *
 * <p>Thread-safe: many threads may call one instance at once. A reduction of more than one chunk
 * takes its job and per-chunk results from a pool of this instance (see {@link ScratchPool}).
 */
public final class Elementwise {
    private final ElementwiseKernel kernel;
    private final Parallel parallel;
    private final ScratchPool<Reduction> reductions;

    Elementwise(ElementwiseKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
        this.reductions = new ScratchPool<>(ScratchPool.defaultSlots(), Reduction::new);
    }

    /** {@code out = x + y}; out may be x or y. */
    /** {@code out = x + y} over tensors of one shape. */
    public void add(FloatTensor x, FloatTensor y, FloatTensor out) {
        Checks.sameShape("add", x, "x", y, "y");
        Checks.sameShape("add", x, "x", out, "out");
        add(x, y, out, x.size());
    }

    /** {@code out = alpha * x} over tensors of one shape. */
    public void scale(FloatTensor x, float alpha, FloatTensor out) {
        Checks.sameShape("scale", x, "x", out, "out");
        scale(x, alpha, out, x.size());
    }

    /** {@code y += alpha * x} over tensors of one shape. */
    public void axpy(float alpha, FloatTensor x, FloatTensor y) {
        Checks.sameShape("axpy", x, "x", y, "y");
        axpy(alpha, x, y, x.size());
    }

    /** The sum of every element, in double precision. */
    public double sum(FloatTensor x) {
        Checks.alive(x, "sum", "x");
        return sum(x, x.size());
    }

    /** The largest element. */
    public float max(FloatTensor x) {
        Checks.alive(x, "max", "x");
        return max(x, x.size());
    }

    /** The dot product of two tensors of one shape, in double precision. */
    public double dot(FloatTensor x, FloatTensor y) {
        Checks.sameShape("dot", x, "x", y, "y");
        return dot(x, y, x.size());
    }

    /** The sum of squares of every element, in double precision. */
    public double sumOfSquares(FloatTensor x) {
        Checks.alive(x, "sumOfSquares", "x");
        return sumOfSquares(x, x.size());
    }

    public void add(FloatTensor x, FloatTensor y, FloatTensor out, long n) {
        Checks.nonNegative("add", "n", n);
        Checks.vector(x, "add", "x", n);
        Checks.vector(y, "add", "y", n);
        Checks.vector(out, "add", "out", n);
        Checks.sameOrDisjoint(x, "x", out, "out");
        Checks.sameOrDisjoint(y, "y", out, "out");
        Parallel par = parallel.over(x, y, out);
        if (Chunks.serial(par, n)) {
            kernel.add(x.segment(), y.segment(), out.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.add(x.segment(), y.segment(), out.segment(), from, to));
        }
    }

    /** {@code out = alpha * x}; out may be x. */
    public void scale(FloatTensor x, float alpha, FloatTensor out, long n) {
        Checks.nonNegative("scale", "n", n);
        Checks.vector(x, "scale", "x", n);
        Checks.vector(out, "scale", "out", n);
        Checks.sameOrDisjoint(x, "x", out, "out");
        Parallel par = parallel.over(x, out);
        if (Chunks.serial(par, n)) {
            kernel.scale(x.segment(), alpha, out.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.scale(x.segment(), alpha, out.segment(), from, to));
        }
    }

    /** {@code y += alpha * x}. */
    public void axpy(float alpha, FloatTensor x, FloatTensor y, long n) {
        Checks.nonNegative("axpy", "n", n);
        Checks.vector(x, "axpy", "x", n);
        Checks.vector(y, "axpy", "y", n);
        Checks.disjoint(x, "x", y, "y");
        Parallel par = parallel.over(x, y);
        if (Chunks.serial(par, n)) {
            kernel.axpy(alpha, x.segment(), y.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.axpy(alpha, x.segment(), y.segment(), from, to));
        }
    }

    /**
     * Row gather, as an embedding lookup: {@code out[r, :] = table[ids[r], :]} for r in
     * {@code [0, count)}, where table is (tableRows, cols).
     */
    public void gatherRows(FloatTensor table, int tableRows, int[] ids, int count, FloatTensor out, int cols) {
        checkRows("gatherRows", table, tableRows, ids, count, out, cols);
        Checks.disjoint(table, "table", out, "out");
        long rowBytes = (long) cols * Float.BYTES;
        for (int r = 0; r < count; r++) {
            MemorySegment.copy(table.segment(), ids[r] * rowBytes, out.segment(), r * rowBytes, rowBytes);
        }
    }

    /**
     * The gradient of {@link #gatherRows}: {@code dTable[ids[r], :] += dOut[r, :]}, rows in order,
     * so repeated ids add up the same way every time.
     */
    public void scatterAddRows(FloatTensor dOut, int[] ids, int count, FloatTensor dTable, int tableRows, int cols) {
        checkRows("scatterAddRows", dTable, tableRows, ids, count, dOut, cols);
        Checks.disjoint(dOut, "dOut", dTable, "dTable");
        for (int r = 0; r < count; r++) {
            kernel.addTo(dOut.segment(), (long) r * cols, dTable.segment(), (long) ids[r] * cols, cols);
        }
    }

    private static void checkRows(String op, FloatTensor table, int tableRows, int[] ids, int count, FloatTensor rows, int cols) {
        Checks.rowsCols(op, tableRows, cols);
        Checks.nonNegative(op, "count", count);
        Checks.matrix(table, op, "table", tableRows, cols);
        Checks.matrix(rows, op, "rows", count, cols);
        if (ids == null || ids.length < count) {
            throw new IllegalArgumentException(op + ": " + count + " rows need " + count + " ids, got "
                    + (ids == null ? "null" : ids.length));
        }
        for (int r = 0; r < count; r++) {
            if (ids[r] < 0 || ids[r] >= tableRows) {
                throw new IllegalArgumentException(op + ": id " + ids[r] + " at position " + r + " is outside [0, " + tableRows + ")");
            }
        }
    }

    public double sum(FloatTensor x, long n) {
        Checks.nonNegative("sum", "n", n);
        Checks.vector(x, "sum", "x", n);
        if (n <= Chunks.SIZE) {
            return kernel.sum(x.segment(), 0, n);
        }
        return reduce(Reduction.SUM, parallel.over(x), x, null, n);
    }

    /** The largest of the first n elements: NaN if one is NaN, negative infinity when n is 0. */
    public float max(FloatTensor x, long n) {
        Checks.nonNegative("max", "n", n);
        Checks.vector(x, "max", "x", n);
        if (n <= Chunks.SIZE) {
            return kernel.max(x.segment(), 0, n);
        }
        return (float) reduce(Reduction.MAX, parallel.over(x), x, null, n);
    }

    public double dot(FloatTensor x, FloatTensor y, long n) {
        Checks.nonNegative("dot", "n", n);
        Checks.vector(x, "dot", "x", n);
        Checks.vector(y, "dot", "y", n);
        if (n <= Chunks.SIZE) {
            return kernel.dot(x.segment(), y.segment(), 0, n);
        }
        return reduce(Reduction.DOT, parallel.over(x, y), x, y, n);
    }

    public double sumOfSquares(FloatTensor x, long n) {
        Checks.nonNegative("sumOfSquares", "n", n);
        Checks.vector(x, "sumOfSquares", "x", n);
        if (n <= Chunks.SIZE) {
            return kernel.sumOfSquares(x.segment(), 0, n);
        }
        return reduce(Reduction.SQUARES, parallel.over(x), x, null, n);
    }

    /**
     * Reduces more than one chunk: each chunk separately, then the chunk results in order (a sum,
     * or for {@link Reduction#MAX} the largest). The job object comes from {@link #reductions}: a
     * lambda per call would capture the tensors and allocate whenever the JIT does not inline it
     * away, which differed between JMH forks.
     */
    private double reduce(int op, Parallel par, FloatTensor x, FloatTensor y, long n) {
        int count = Chunks.count(n);
        Reduction reduction = reductions.take();
        try {
            double[] parts = reduction.results(count);
            reduction.set(op, x, y, n);
            int threads = par.parts(count, Chunks.SIZE);
            par.forParts(count, threads, Parallel.chunks(count, Chunks.SIZE, threads), reduction);
            double total = op == Reduction.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (int i = 0; i < count; i++) {
                total = op == Reduction.MAX ? Math.max(total, parts[i]) : total + parts[i];
            }
            return total;
        } finally {
            reduction.set(Reduction.SUM, null, null, 0); // an idle job keeps no caller's tensors reachable
            reductions.give(reduction);
        }
    }

    /** One reduction's operands, posted before the workers run it; every chunk's result into its own slot. */
    private final class Reduction implements Parallel.PartTask {
        static final int SUM = 0, MAX = 1, DOT = 2, SQUARES = 3;
        private int op;
        private FloatTensor x, y;
        private long n;
        private double[] parts = new double[0];

        void set(int op, FloatTensor x, FloatTensor y, long n) {
            this.op = op;
            this.x = x;
            this.y = y;
            this.n = n;
        }

        /**
         * The per-chunk results, at least {@code count} of them: kept and grown, not allocated per
         * call (the training step's gradient norm over 3.3 M parameters would allocate 1.6 KB
         * every step).
         */
        double[] results(int count) {
            if (parts.length < count) {
                parts = new double[count];
            }
            return parts;
        }

        @Override
        public void run(int part, int fromChunk, int toChunk) {
            MemorySegment xs = x.segment();
            for (int c = fromChunk; c < toChunk; c++) {
                long from = (long) c * Chunks.SIZE, to = Math.min(n, from + Chunks.SIZE);
                parts[c] = switch (op) {
                    case SUM -> kernel.sum(xs, from, to);
                    case MAX -> kernel.max(xs, from, to);
                    case DOT -> kernel.dot(xs, y.segment(), from, to);
                    default -> kernel.sumOfSquares(xs, from, to);
                };
            }
        }
    }
}
