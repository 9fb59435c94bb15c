package dev.panamaformer.kernels;

/**
 * The entry point: one implementation of every kernel family, scalar or SIMD, with a thread
 * count. {@link #defaults()} is what the provider chose for this JVM:
 * <ul>
 *   <li>{@code -Dpanamaformer.kernels=scalar|128|256|512|auto} forces the scalar kernels or a
 *       vector width (default {@code auto}: the CPU's preferred width);</li>
 *   <li>{@code -Dpanamaformer.tile=4x4|4x3|4x2|auto} forces the products' register tiles (default
 *       {@code auto}: 4x4 with 32 vector registers; with 16, the faster of 4x3 and 4x2, timed
 *       once at first use in a fraction of a second for the GEMM's packed kernels and for fused
 *       attention's strided ones, see {@code TileShape});</li>
 *   <li>{@code -Dpanamaformer.threads=N} sets the default thread count (default: all cores).</li>
 * </ul>
 * Without {@code --add-modules jdk.incubator.vector} the provider falls back to the scalar
 * kernels and logs one line saying so. Results do not depend on the thread count.
 *
 * <p>Thread-safe: every kernel of an instance may be called from many threads at once, with the
 * same results as one call after another and without waiting for each other; kernels that need
 * scratch memory give each concurrent call its own. What is shared is the pool of worker threads
 * that calls split their work across ({@code threads - 1} of them, shared by every instance of the
 * JVM, like the JDK's common pool): a call that finds them busy with another call runs all its
 * parts on its own thread. A server that runs many requests at once does best with instances of
 * one thread ({@link #withThreads withThreads(1)}), one request per thread; a single training
 * run with an instance of all cores. Tensors are not guarded: two calls that write the same
 * memory, or one that writes what another reads, race as in any Java code.
 */
public final class Kernels {
    static final String THREADS_PROPERTY = "panamaformer.threads";
    private static KernelSet chosen;
    private static Kernels defaults;

    private final KernelSet set;
    private final Parallel parallel;
    private final Matmul matmul;
    private final Softmax softmax;
    private final Loss loss;
    private final LayerNorm layerNorm;
    private final Activations activations;
    private final Dropout dropout;
    private final Elementwise elementwise;
    private final Adam adam;
    private final FusedAttention fusedAttention;
    private final Rotary rotary;
    private final AttentionBias attentionBias;

    private Kernels(KernelSet set, int threads) {
        this.set = set;
        this.parallel = new Parallel(threads);
        this.matmul = new Matmul(set.matmul(), parallel);
        this.softmax = new Softmax(set.softmax(), set.bias(), parallel);
        this.loss = new Loss(set.softmax(), parallel);
        this.layerNorm = new LayerNorm(set.norm(), parallel);
        this.activations = new Activations(set.activation(), parallel);
        this.dropout = new Dropout(set.dropout(), parallel);
        this.elementwise = new Elementwise(set.elementwise(), parallel);
        this.adam = new Adam(set.optimizer(), parallel);
        this.fusedAttention = new FusedAttention(set.attention(), set.elementwise(), set.dropout(), set.bias(), parallel);
        this.attentionBias = new AttentionBias(set.bias(), parallel);
        this.rotary = new Rotary(set.rotary(), parallel);
    }

    /** The kernel implementations behind this facade (for tests of a single kernel step). */
    KernelSet kernelSet() {
        return set;
    }

    private static synchronized KernelSet chosen() {
        if (chosen == null) {
            chosen = KernelProvider.choose();
        }
        return chosen;
    }

    /** The provider's kernels with the default thread count, shared by the whole JVM. */
    public static synchronized Kernels defaults() {
        if (defaults == null) {
            defaults = new Kernels(chosen(), defaultThreads());
        }
        return defaults;
    }

    /** The provider's kernels with {@code threads} threads. */
    public static Kernels withThreads(int threads) {
        return new Kernels(chosen(), threads);
    }

    /** The scalar reference kernels with {@code threads} threads. */
    public static Kernels scalar(int threads) {
        return new Kernels(KernelSet.scalar("requested"), threads);
    }

    /** The SIMD kernels with {@code threads} threads; throws IllegalStateException where they cannot run. */
    public static Kernels simd(int threads) {
        return new Kernels(KernelProvider.simd(), threads);
    }

    /** The thread count from {@code -Dpanamaformer.threads}, or the number of available processors. */
    public static int defaultThreads() {
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int threads = Integer.parseInt(value.trim());
            if (threads >= 1) {
                return threads;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + THREADS_PROPERTY + " must be a positive integer, got '" + value + "'");
    }

    /**
     * For example "SIMD 512-bit (16 float lanes), GEMM 4x4-vector tile (32 vector registers), fused
     * attention 4x4-vector tile (32 vector registers), 2 threads" or "scalar (forced by ...), 1 thread".
     */
    public String description() {
        return set.description() + ", " + parallel.threads() + (parallel.threads() == 1 ? " thread" : " threads");
    }

    public boolean isVectorized() {
        return set.vectorized();
    }

    /** Floats per vector register in use: 16 for 512-bit SIMD, 1 for scalar. */
    public int floatLanes() {
        return set.floatLanes();
    }

    public int threads() {
        return parallel.threads();
    }

    public Matmul matmul() {
        return matmul;
    }

    public Softmax softmax() {
        return softmax;
    }

    public Loss loss() {
        return loss;
    }

    public LayerNorm layerNorm() {
        return layerNorm;
    }

    public Activations activations() {
        return activations;
    }

    /** Rotary position embeddings of queries and keys. */
    public Rotary rotary() {
        return rotary;
    }

    public Dropout dropout() {
        return dropout;
    }

    public Elementwise elementwise() {
        return elementwise;
    }

    public Adam adam() {
        return adam;
    }

    public FusedAttention fusedAttention() {
        return fusedAttention;
    }

    /** The gradient of a {@link PositionBias}'s table in the materialized attention path. */
    public AttentionBias attentionBias() {
        return attentionBias;
    }

    @Override
    public String toString() {
        return "Kernels[" + description() + "]";
    }
}
