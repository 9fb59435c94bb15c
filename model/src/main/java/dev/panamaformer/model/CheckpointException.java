package dev.panamaformer.model;

/** A checkpoint that cannot be read: truncated, corrupt, or made for another model. */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }
}
