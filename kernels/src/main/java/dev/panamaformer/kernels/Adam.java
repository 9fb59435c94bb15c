package dev.panamaformer.kernels;

/** The Adam and AdamW updates, with bias correction, element-wise over a parameter tensor. */
public final class Adam {
    private final OptimizerKernel kernel;
    private final Parallel parallel;

    Adam(OptimizerKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /** As the form below over all of {@code param}'s elements, with grad, m and v of its shape. */
    public void update(FloatTensor param, FloatTensor grad, FloatTensor m, FloatTensor v, int step, float lr, float beta1,
                       float beta2, float eps, float weightDecay, boolean decoupled) {
        Checks.sameShape("adam", param, "param", grad, "grad");
        Checks.sameShape("adam", param, "param", m, "m");
        Checks.sameShape("adam", param, "param", v, "v");
        update(param, grad, m, v, param.size(), step, lr, beta1, beta2, eps, weightDecay, decoupled);
    }

    /**
     * Step {@code step} (counting from 1) of Adam on n parameters: updates {@code param} and its
     * moment estimates {@code m} and {@code v} from {@code grad}. With {@code decoupled}, weight
     * decay is AdamW's ({@code p -= lr * wd * p}); otherwise it is added to the gradient.
     */
    public void update(FloatTensor param, FloatTensor grad, FloatTensor m, FloatTensor v, long n, int step,
                       float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        Checks.nonNegative("adam", "n", n);
        Checks.vector(param, "adam", "param", n);
        Checks.vector(grad, "adam", "grad", n);
        Checks.vector(m, "adam", "m", n);
        Checks.vector(v, "adam", "v", n);
        Checks.disjoint(grad, "grad", param, "param");
        Checks.disjoint(m, "m", param, "param");
        Checks.disjoint(v, "v", param, "param");
        Checks.disjoint(m, "m", v, "v");
        if (step < 1) {
            throw new IllegalArgumentException("adam: step counts from 1, got " + step);
        }
        if (!(lr >= 0f) || !(eps > 0f) || !(weightDecay >= 0f)) {
            throw new IllegalArgumentException("adam: need lr >= 0, eps > 0, weightDecay >= 0; got lr " + lr
                    + ", eps " + eps + ", weightDecay " + weightDecay);
        }
        Checks.probability("adam", "beta1", beta1);
        Checks.probability("adam", "beta2", beta2);
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        Parallel par = parallel.over(param, grad, m, v);
        if (Chunks.serial(par, n)) {
            kernel.adam(param.segment(), grad.segment(), m.segment(), v.segment(), 0, n, lr, beta1, beta2, eps,
                    weightDecay, decoupled, bc1, bc2);
        } else {
            Chunks.forEach(par, n, (from, to) ->
                    kernel.adam(param.segment(), grad.segment(), m.segment(), v.segment(), from, to, lr, beta1,
                            beta2, eps, weightDecay, decoupled, bc1, bc2));
        }
    }
}
