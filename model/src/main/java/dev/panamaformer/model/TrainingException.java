package dev.panamaformer.model;

/** A training step that could not be completed; the parameters are as they were before it. */
public final class TrainingException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int step;

    public TrainingException(int step, String message) {
        super("step " + step + ": " + message);
        this.step = step;
    }

    public int step() {
        return step;
    }
}
