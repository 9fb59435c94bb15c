package dev.panamaformer.kernels;

/** ReLU and GELU (tanh form), forward and backward, element-wise over n elements. */
public final class Activations {
    private final ActivationKernel kernel;
    private final Parallel parallel;

    Activations(ActivationKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /** {@code y = max(x, 0)} over tensors of one shape; y may be x. */
    public void relu(FloatTensor x, FloatTensor y) {
        Checks.sameShape("relu", x, "x", y, "y");
        relu(x, y, x.size());
    }

    /** GELU (tanh form) over tensors of one shape; y may be x. */
    public void gelu(FloatTensor x, FloatTensor y) {
        Checks.sameShape("gelu", x, "x", y, "y");
        gelu(x, y, x.size());
    }

    /** {@code y = max(x, 0)}; y may be x. */
    public void relu(FloatTensor x, FloatTensor y, long n) {
        unary("relu", x, y, n);
        Parallel par = parallel.over(x, y);
        if (Chunks.serial(par, n)) {
            kernel.reluForward(x.segment(), y.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.reluForward(x.segment(), y.segment(), from, to));
        }
    }

    /** {@code dx += (x > 0) * dy}, where x is the forward input. */
    public void reluBackward(FloatTensor x, FloatTensor dy, FloatTensor dx, long n) {
        binary("reluBackward", x, dy, dx, n);
        Parallel par = parallel.over(x, dy, dx);
        if (Chunks.serial(par, n)) {
            kernel.reluBackward(x.segment(), dy.segment(), dx.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.reluBackward(x.segment(), dy.segment(), dx.segment(), from, to));
        }
    }

    /** {@code y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}; y may be x. */
    public void gelu(FloatTensor x, FloatTensor y, long n) {
        unary("gelu", x, y, n);
        Parallel par = parallel.over(x, y);
        if (Chunks.serial(par, n)) {
            kernel.geluForward(x.segment(), y.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.geluForward(x.segment(), y.segment(), from, to));
        }
    }

    /** {@code dx += gelu'(x) * dy}, where x is the forward input. */
    public void geluBackward(FloatTensor x, FloatTensor dy, FloatTensor dx, long n) {
        binary("geluBackward", x, dy, dx, n);
        Parallel par = parallel.over(x, dy, dx);
        if (Chunks.serial(par, n)) {
            kernel.geluBackward(x.segment(), dy.segment(), dx.segment(), 0, n);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.geluBackward(x.segment(), dy.segment(), dx.segment(), from, to));
        }
    }

    private static void unary(String op, FloatTensor x, FloatTensor y, long n) {
        Checks.nonNegative(op, "n", n);
        Checks.vector(x, op, "x", n);
        Checks.vector(y, op, "y", n);
        Checks.sameOrDisjoint(x, "x", y, "y");
    }

    private static void binary(String op, FloatTensor x, FloatTensor dy, FloatTensor dx, long n) {
        Checks.nonNegative(op, "n", n);
        Checks.vector(x, op, "x", n);
        Checks.vector(dy, op, "dy", n);
        Checks.vector(dx, op, "dx", n);
        Checks.disjoint(x, "x", dx, "dx");
        Checks.sameOrDisjoint(dy, "dy", dx, "dx");
    }
}
