package dev.panamaformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Matrix products in the BLAS convention, and the bias of a linear layer. All matrices are
 * row-major; offsets and leading dimensions count floats.
 *
 * <p>A linear layer {@code y = x W + b} with x (rows, in) and W (in, out) uses
 * {@code gemm(false, false, ...)} forward, {@code gemm(false, true, ...)} for dx = dy Wᵀ and
 * {@code gemm(true, false, ...)} for dW = xᵀ dy; attention's Q Kᵀ is {@code gemm(false, true, ...)}.
 *
 * <p>Thread-safe: any number of threads may call one instance at once, without waiting for each
 * other. Each call takes a job with its packing workspaces (one per part it is split into, about
 * 1.1 MiB each for SIMD) from a pool of this instance and gives it back when it returns, so a
 * call allocates nothing once the pool holds a job for it: at most as many jobs as calls ever ran
 * at once, up to {@link ScratchPool#defaultSlots()} kept. The worker threads a call splits its work across are
 * shared by the JVM ({@link Parallel}); a call that finds them busy runs its parts itself, with
 * the same result, since results never depend on who runs a part.
 */
public final class Matmul {
    /**
     * Products of fewer multiply-adds than this run whole on the calling thread through
     * {@link MatmulKernel#gemmSmall}, without packing: for attention's per-head products (5 x 5
     * x 32 in the parser task) packing and zero-padding a panel cost more than the product.
     * Below the work of two parts ({@link Parallel#MIN_WORK_PER_PART}), so none of these would
     * have been split anyway.
     */
    static final long SMALL = 1L << 16;
    /**
     * Rows (or columns) of C that a chunk of a split product holds at least. A chunk packs all of
     * the other operand again, a cost of about 1/lines of its multiply-adds: 1024³ on 2 threads
     * under AVX2 (AMD EPYC Zen 4, -XX:UseAVX=2), best of 4 s, alternating JVMs, ran 157-165
     * GFLOPS in chunks of 128 rows, 173-184 of 256 and 180-192 of 512, against 180-183 in halves.
     */
    static final int CHUNK_LINES = 512;

    private final MatmulKernel kernel;
    private final Parallel parallel;
    private final ScratchPool<Job> jobs;

    Matmul(MatmulKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
        this.jobs = new ScratchPool<>(ScratchPool.defaultSlots(), Job::new);
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} on dense matrices at offset 0: op(A) is (m, k),
     * op(B) is (k, n), C is (m, n); A is stored (k, m) when {@code transA}, B is stored (n, k) when
     * {@code transB}. With {@code beta == 0}, C is only written, never read.
     */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     FloatTensor a, FloatTensor b, float beta, FloatTensor c) {
        gemm(transA, transB, m, n, k, alpha, a, 0, transA ? m : k, b, 0, transB ? k : n, beta, c, 0, n);
    }

    /**
     * {@code C = A B}, the sizes read from the shapes: A (m, k), B (k, n), C (m, n), where leading
     * dimensions count as rows (a (batch, tokens, k) A is (batch * tokens, k)). A shape that does
     * not fit throws an IllegalArgumentException naming it and the shape it should have.
     */
    public void multiply(FloatTensor a, FloatTensor b, FloatTensor c) {
        gemm(false, false, 1f, a, b, 0f, c);
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C}, the sizes read from the shapes (leading
     * dimensions count as rows): A is (m, k), or (k, m) with {@code transA}; B is (k, n), or (n, k)
     * with {@code transB}; C must be (m, n).
     */
    public void gemm(boolean transA, boolean transB, float alpha, FloatTensor a, FloatTensor b, float beta, FloatTensor c) {
        int aRows = Checks.rows(a, "gemm", "A"), aCols = Checks.cols(a);
        int bRows = Checks.rows(b, "gemm", "B"), bCols = Checks.cols(b);
        int m = transA ? aCols : aRows, k = transA ? aRows : aCols;
        int kb = transB ? bCols : bRows, n = transB ? bRows : bCols;
        if (k != kb) {
            throw new IllegalArgumentException("gemm: op(A) is (" + m + ", " + k + ") from A of shape " + java.util.Arrays.toString(a.shape())
                    + (transA ? " transposed" : "") + ", op(B) is (" + kb + ", " + n + ") from B of shape "
                    + java.util.Arrays.toString(b.shape()) + (transB ? " transposed" : "") + ": " + k + " columns against " + kb + " rows");
        }
        Checks.matrixShape("gemm", c, "C", m, n, ", rows of op(A) x columns of op(B)");
        gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} on sub-matrices at the given offsets and leading dimensions. */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  FloatTensor a, long aOff, int lda, FloatTensor b, long bOff, int ldb,
                                  float beta, FloatTensor c, long cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative size (m, n, k) = (" + m + ", " + n + ", " + k + ")");
        }
        long aEnd = span("A", a, transA ? k : m, transA ? m : k, aOff, lda, "op(A)", m, k, null);
        long bEnd = span("B", b, transB ? n : k, transB ? k : n, bOff, ldb, "op(B)", k, n, null);
        long cEnd = span("C", c, m, n, cOff, ldc, "C", m, n, null);
        apart(c, cOff, cEnd, a, aOff, aEnd, "A");
        apart(c, cOff, cEnd, b, bOff, bEnd, "B");
        if (m == 0 || n == 0) {
            return;
        }
        if ((long) m * n * k < SMALL) {
            kernel.gemmSmall(transA, transB, m, n, k, alpha, a.segment(), aOff, lda, b.segment(), bOff, ldb,
                    beta, c.segment(), cOff, ldc);
            return;
        }
        Parallel parallel = this.parallel.over(a, b, c);
        int rowParts = parallel.parts(m, (long) n * k), colParts = parallel.parts(n, (long) m * k);
        Job job = jobs.take();
        try {
            if (rowParts == 1 && colParts == 1) {
                kernel.gemm(transA, transB, m, n, k, alpha, a.segment(), aOff, lda, b.segment(), bOff, ldb,
                        beta, c.segment(), cOff, ldc, job.workspace(0));
            } else {
                job.set(m >= n ? Job.ROWS : Job.COLUMNS, transA, transB, m, n, k, alpha, a.segment(), aOff, lda,
                        b.segment(), bOff, ldb, beta, c.segment(), cOff, ldc);
                int items = m >= n ? m : n, parts = m >= n ? rowParts : colParts;
                // each chunk packs all of the other operand again: chunks of fewer rows (or
                // columns) than CHUNK_LINES would spend a noticeable share of it packing
                int chunks = Math.min(Parallel.chunks(items, (long) (m >= n ? n : m) * k, parts),
                        Math.max(parts, items / CHUNK_LINES));
                parallel.forParts(items, parts, chunks, job);
            }
        } finally {
            job.clear();
            jobs.give(job);
        }
    }

    /**
     * {@code C(i, j) = alpha * op(A(i, j)) * op(B(i, j)) + beta * C(i, j)} for every cell of a
     * (count0, count1) grid of matrices, e.g. the (batch, head) products of attention. Threads
     * split the grid; each product runs on one thread. C's matrices must not overlap each other.
     */
    public void gemmBatched(int count0, int count1, boolean transA, boolean transB, int m, int n, int k,
                                         float alpha, MatrixBatch a, MatrixBatch b, float beta, MatrixBatch c) {
        if (count0 < 0 || count1 < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemmBatched: negative size, grid (" + count0 + ", " + count1
                    + "), (m, n, k) = (" + m + ", " + n + ", " + k + ")");
        }
        if (count0 == 0 || count1 == 0) {
            return;
        }
        long aEnd = batchSpan("A", a, count0, count1, transA ? k : m, transA ? m : k, "op(A)", m, k);
        long bEnd = batchSpan("B", b, count0, count1, transB ? n : k, transB ? k : n, "op(B)", k, n);
        long cEnd = batchSpan("C", c, count0, count1, m, n, "C", m, n);
        apart(c.tensor(), c.offset(), cEnd, a.tensor(), a.offset(), aEnd, "A");
        apart(c.tensor(), c.offset(), cEnd, b.tensor(), b.offset(), bEnd, "B");
        if (m == 0 || n == 0) {
            return;
        }
        int items = count0 * count1;
        Parallel parallel = this.parallel.over(a.tensor(), b.tensor(), c.tensor());
        int parts = parallel.parts(items, (long) m * n * Math.max(1, k));
        boolean small = (long) m * n * k < SMALL;
        if (parts == 1 && small) {
            products(null, 0, 0, items, count1, transA, transB, m, n, k, alpha, a, b, beta, c);
            return;
        }
        Job job = jobs.take();
        try {
            if (parts == 1) {
                products(job, 0, 0, items, count1, transA, transB, m, n, k, alpha, a, b, beta, c);
            } else {
                job.setBatch(count1, transA, transB, m, n, k, alpha, a, b, beta, c);
                parallel.forParts(items, parts, Parallel.chunks(items, (long) m * n * Math.max(1, k), parts), job);
            }
        } finally {
            job.clear();
            jobs.give(job);
        }
    }

    /** Products {@code [from, to)} of a grid; {@code job} holds the workspace of {@code part} (null when every product is small). */
    private void products(Job job, int part, int from, int to, int count1, boolean transA, boolean transB, int m, int n,
                          int k, float alpha, MatrixBatch a, MatrixBatch b, float beta, MatrixBatch c) {
        boolean small = (long) m * n * k < SMALL;
        for (int item = from; item < to; item++) {
            int i = item / count1, j = item % count1;
            if (small) {
                kernel.gemmSmall(transA, transB, m, n, k, alpha, a.tensor().segment(), a.start(i, j), a.ld(),
                        b.tensor().segment(), b.start(i, j), b.ld(), beta, c.tensor().segment(), c.start(i, j), c.ld());
                continue;
            }
            kernel.gemm(transA, transB, m, n, k, alpha, a.tensor().segment(), a.start(i, j), a.ld(),
                    b.tensor().segment(), b.start(i, j), b.ld(), beta, c.tensor().segment(), c.start(i, j), c.ld(),
                    job.workspace(part));
        }
    }

    /**
     * One call's state: its arguments, held in fields rather than captured by a lambda so that a
     * call allocates nothing, and a packing workspace per part, created on first use. A call owns
     * its job from {@link ScratchPool#take} to {@link ScratchPool#give}.
     */
    private final class Job implements Parallel.PartTask {
        static final int ROWS = 0;
        static final int COLUMNS = 1;
        static final int BATCHED = 2;

        private int mode;
        private boolean transA;
        private boolean transB;
        private int m;
        private int n;
        private int k;
        private int count1;
        private float alpha;
        private float beta;
        private MemorySegment a;
        private MemorySegment b;
        private MemorySegment c;
        private long aOff;
        private long bOff;
        private long cOff;
        private int lda;
        private int ldb;
        private int ldc;
        private MatrixBatch batchA;
        private MatrixBatch batchB;
        private MatrixBatch batchC;
        private final GemmWorkspace[] workspaces = new GemmWorkspace[parallel.threads()];
        /** Whether part p's workspace was made: the scalar kernel's is null, and is made once too. */
        private final boolean[] made = new boolean[parallel.threads()];

        /** The packing workspace of {@code part}; the memory lives as long as this job (an automatic arena). */
        GemmWorkspace workspace(int part) {
            if (!made[part]) {
                workspaces[part] = kernel.newWorkspace(Arena.ofAuto());
                made[part] = true;
            }
            return workspaces[part];
        }

        void set(int mode, boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, long aOff,
                 int lda, MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
            this.mode = mode;
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
        }

        void setBatch(int count1, boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MatrixBatch a, MatrixBatch b, float beta, MatrixBatch c) {
            set(BATCHED, transA, transB, m, n, k, alpha, null, 0, 0, null, 0, 0, beta, null, 0, 0);
            this.count1 = count1;
            this.batchA = a;
            this.batchB = b;
            this.batchC = c;
        }

        /** Drops the references to the caller's memory. */
        void clear() {
            a = b = c = null;
            batchA = batchB = batchC = null;
        }

        @Override
        public void run(int part, int from, int to) {
            switch (mode) {
                case ROWS -> kernel.gemm(transA, transB, to - from, n, k, alpha, a, aOff + (transA ? from : (long) from * lda), lda,
                        b, bOff, ldb, beta, c, cOff + (long) from * ldc, ldc, workspace(part));
                case COLUMNS -> kernel.gemm(transA, transB, m, to - from, k, alpha, a, aOff, lda,
                        b, bOff + (transB ? (long) from * ldb : from), ldb, beta, c, cOff + from, ldc, workspace(part));
                default -> products(this, part, from, to, count1, transA, transB, m, n, k, alpha, batchA, batchB, beta, batchC);
            }
        }
    }

    private static long batchSpan(String name, MatrixBatch x, int count0, int count1, int rows, int cols,
                                  String role, int roleRows, int roleCols) {
        if (x == null) {
            throw new IllegalArgumentException("gemmBatched: " + name + " is null");
        }
        long last = x.start(count0 - 1, count1 - 1);
        long end = span(name, x.tensor(), rows, cols, last, x.ld(), role, roleRows, roleCols, x);
        return Math.max(end, x.offset());
    }

    /**
     * Checks that {@code t} holds a stored (rows, cols) matrix, the operand {@code role} of
     * logical shape (roleRows, roleCols) (the last one of {@code batch}, when not null); returns
     * one past its last element. Messages are built only on failure.
     */
    private static long span(String name, FloatTensor t, int rows, int cols, long off, int ld,
                             String role, int roleRows, int roleCols, MatrixBatch batch) {
        if (t == null) {
            throw new IllegalArgumentException("gemm: " + name + " is null");
        }
        if (!t.isAlive()) {
            t.checkAlive("gemm: " + name);
        }
        if (off < 0) {
            throw new IllegalArgumentException("gemm: negative offset " + off + " into " + name);
        }
        if (ld < cols) {
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " is " + ld + ", less than its "
                    + cols + " stored columns, for " + describe(role, roleRows, roleCols, batch));
        }
        if (rows == 0 || cols == 0) {
            return off; // an empty matrix touches no memory
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (end > t.size()) {
            throw new IllegalArgumentException("gemm: " + name + " " + t + " (" + t.size() + " elements) is too small for "
                    + describe(role, roleRows, roleCols, batch) + ", stored (" + rows + ", " + cols + ") with leading dimension "
                    + ld + " at offset " + off + ", which needs " + end + " elements");
        }
        return end;
    }

    private static String describe(String role, int rows, int cols, MatrixBatch batch) {
        String s = role + " (" + rows + ", " + cols + ")";
        return batch == null ? s : s + " of the last matrix of a grid with strides (" + batch.stride0() + ", " + batch.stride1() + ")";
    }

    private static void apart(FloatTensor c, long cOff, long cEnd, FloatTensor x, long xOff, long xEnd, String name) {
        if (cEnd == cOff || xEnd == xOff) {
            return;
        }
        long c0 = c.segment().address() + cOff * Float.BYTES, c1 = c.segment().address() + cEnd * Float.BYTES;
        long x0 = x.segment().address() + xOff * Float.BYTES, x1 = x.segment().address() + xEnd * Float.BYTES;
        if (c0 < x1 && x0 < c1) {
            throw new IllegalArgumentException("gemm: C " + c + " at offset " + cOff + " overlaps " + name + " " + x
                    + " at offset " + xOff + "; the output must not alias an input");
        }
    }

    /** {@code y[r, :] += bias} for every row of y, sizes read from the shapes: bias holds y's last dimension. */
    public void addBias(FloatTensor y, FloatTensor bias) {
        int rows = Checks.rows(y, "addBias", "y");
        Checks.vectorShape("addBias", bias, "bias", Checks.cols(y), ", the last dimension of y " + java.util.Arrays.toString(y.shape()));
        addBias(y, bias, rows, Checks.cols(y));
    }

    /** {@code dBias += } the column sums of dy, sizes read from the shapes. */
    public void biasGrad(FloatTensor dy, FloatTensor dBias) {
        int rows = Checks.rows(dy, "biasGrad", "dy");
        Checks.vectorShape("biasGrad", dBias, "dBias", Checks.cols(dy), ", the last dimension of dy " + java.util.Arrays.toString(dy.shape()));
        biasGrad(dy, dBias, rows, Checks.cols(dy));
    }

    /** {@code y[r, :] += bias} for a (rows, cols) matrix y and a (cols) vector bias. */
    public void addBias(FloatTensor y, FloatTensor bias, int rows, int cols) {
        Checks.rowsCols("addBias", rows, cols);
        Checks.matrix(y, "addBias", "y", rows, cols);
        Checks.vector(bias, "addBias", "bias", cols);
        Checks.disjoint(bias, "bias", y, "y");
        Parallel par = parallel.over(y, bias);
        if (par.parts(rows, cols) == 1) {
            kernel.addBias(y.segment(), bias.segment(), 0, rows, cols);
        } else {
            par.forRange(rows, cols, (from, to) ->
                    kernel.addBias(y.segment(), bias.segment(), from, to, cols));
        }
    }

    /** {@code dBias += } the column sums of the (rows, cols) matrix dy. */
    public void biasGrad(FloatTensor dy, FloatTensor dBias, int rows, int cols) {
        Checks.rowsCols("biasGrad", rows, cols);
        Checks.matrix(dy, "biasGrad", "dy", rows, cols);
        Checks.vector(dBias, "biasGrad", "dBias", cols);
        Checks.disjoint(dy, "dy", dBias, "dBias");
        Parallel par = parallel.over(dy, dBias);
        if (par.parts(cols, rows) == 1) {
            kernel.biasGrad(dy.segment(), dBias.segment(), rows, cols, 0, cols);
        } else {
            par.forRange(cols, rows, (from, to) ->
                    kernel.biasGrad(dy.segment(), dBias.segment(), rows, cols, from, to));
        }
    }
}
