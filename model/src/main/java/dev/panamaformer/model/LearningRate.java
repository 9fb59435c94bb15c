package dev.panamaformer.model;

/** A learning rate as a function of the step, counting from 1. */
@FunctionalInterface
public interface LearningRate {
    float at(int step);

    static LearningRate constant(float lr) {
        if (!(lr >= 0f) || Float.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and non-negative, got " + lr);
        }
        return step -> lr;
    }

    /**
     * The schedule of "Attention Is All You Need" (the reference's "Noam" optimizer):
     * {@code factor * d^-0.5 * min(step^-0.5, step * warmup^-1.5)}, rising linearly for
     * {@code warmup} steps, then decaying as 1/sqrt(step).
     */
    static LearningRate noam(float factor, int modelSize, int warmup) {
        if (!(factor > 0f) || modelSize < 1 || warmup < 1) {
            throw new IllegalArgumentException("noam needs factor > 0, modelSize >= 1, warmup >= 1; got "
                    + factor + ", " + modelSize + ", " + warmup);
        }
        return step -> (float) (factor * Math.pow(modelSize, -0.5) * Math.min(Math.pow(step, -0.5), step * Math.pow(warmup, -1.5)));
    }
}
