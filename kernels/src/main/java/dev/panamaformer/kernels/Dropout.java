package dev.panamaformer.kernels;

/**
 * Inverted dropout with a counter-based random stream: element {@code i} is kept or dropped
 * according to a hash of {@code (seed, i)} alone, so the same seed always drops the same
 * elements, for any thread count, and the backward pass needs no stored mask.
 */
public final class Dropout {
    private final DropoutKernel kernel;
    private final Parallel parallel;

    Dropout(DropoutKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /** As {@link #forward(FloatTensor, FloatTensor, long, float, long)} over tensors of one shape. */
    public void forward(FloatTensor x, FloatTensor y, float p, long seed) {
        Checks.sameShape("dropout", x, "x", y, "y");
        forward(x, y, x.size(), p, seed);
    }

    /** Drops each element with probability {@code p} and scales the kept ones by {@code 1 / (1 - p)}; y may be x. */
    public void forward(FloatTensor x, FloatTensor y, long n, float p, long seed) {
        check("dropout", n, p);
        Checks.vector(x, "dropout", "x", n);
        Checks.vector(y, "dropout", "y", n);
        Checks.sameOrDisjoint(x, "x", y, "y");
        int threshold = DropoutKernel.threshold(p);
        float scale = 1f / (1f - p);
        Parallel par = parallel.over(x, y);
        if (Chunks.serial(par, n)) {
            kernel.forward(x.segment(), y.segment(), 0, n, threshold, scale, seed);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.forward(x.segment(), y.segment(), from, to, threshold, scale, seed));
        }
    }

    /** {@code dx += dy / (1 - p)} where the forward pass with this seed kept the element, 0 elsewhere. */
    public void backward(FloatTensor dy, FloatTensor dx, long n, float p, long seed) {
        check("dropout backward", n, p);
        Checks.vector(dy, "dropout backward", "dy", n);
        Checks.vector(dx, "dropout backward", "dx", n);
        Checks.sameOrDisjoint(dy, "dy", dx, "dx");
        int threshold = DropoutKernel.threshold(p);
        float scale = 1f / (1f - p);
        Parallel par = parallel.over(dy, dx);
        if (Chunks.serial(par, n)) {
            kernel.backward(dy.segment(), dx.segment(), 0, n, threshold, scale, seed);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.backward(dy.segment(), dx.segment(), from, to, threshold, scale, seed));
        }
    }

    /** Whether the forward pass with this seed and probability keeps element {@code index}. */
    public static boolean kept(long seed, float p, int index) {
        Checks.probability("dropout", "probability", p);
        return DropoutKernel.keepBits(seed, index) >= DropoutKernel.threshold(p);
    }

    private static void check(String op, long n, float p) {
        Checks.nonNegative(op, "n", n);
        Checks.probability(op, "probability", p);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + n + " elements exceed the 2^31 - 1 the random stream indexes");
        }
    }
}
