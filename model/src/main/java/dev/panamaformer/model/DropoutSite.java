package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;

/**
 * One place where dropout applies, with its own random stream: the seed of a step is mixed with
 * the site's number, so every site drops different elements, the backward pass recomputes the
 * forward's mask from the same seed, and the same seed gives the same run.
 */
final class DropoutSite {
    private final float p;
    private final long site;

    DropoutSite(float p, long site) {
        this.p = p;
        this.site = site;
    }

    /** The seed of this site's stream in the step seeded {@code stepSeed}. */
    long seed(long stepSeed) {
        long z = stepSeed + site * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    boolean active(boolean training) {
        return training && p > 0f;
    }

    /** The drop probability in effect: p in training, 0 otherwise. */
    float probability(boolean training) {
        return active(training) ? p : 0f;
    }

    /** {@code y = dropout(x)} in training, {@code y = x} otherwise. */
    void forward(Kernels k, FloatTensor x, FloatTensor y, long n, boolean training, long stepSeed) {
        if (active(training)) {
            k.dropout().forward(x, y, n, p, seed(stepSeed));
        } else {
            y.copyFrom(x);
        }
    }

    /** {@code dx += d dropout(x)/dx · dy}. */
    void backward(Kernels k, FloatTensor dy, FloatTensor dx, long n, boolean training, long stepSeed) {
        if (active(training)) {
            k.dropout().backward(dy, dx, n, p, seed(stepSeed));
        } else {
            k.elementwise().axpy(1f, dy, dx, n);
        }
    }
}
