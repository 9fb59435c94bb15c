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

    /**
     * Linear warm-up to {@code peak} over {@code warmup} steps, then a cosine decay to
     * {@code peak * floor} at step {@code total} (and {@code floor} after it).
     */
    static LearningRate warmupCosine(float peak, int warmup, int total, float floor) {
        if (!(peak > 0f) || warmup < 0 || total < 1 || !(floor >= 0f && floor <= 1f)) {
            throw new IllegalArgumentException("warmupCosine needs peak > 0, warmup >= 0, total >= 1, floor in [0, 1]; got "
                    + peak + ", " + warmup + ", " + total + ", " + floor);
        }
        return step -> {
            if (step <= warmup) {
                return peak * step / Math.max(1, warmup);
            }
            double t = Math.min(1.0, (step - warmup) / (double) Math.max(1, total - warmup));
            return (float) (peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t))));
        };
    }
}
