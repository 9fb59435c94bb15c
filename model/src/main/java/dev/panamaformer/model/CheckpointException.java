package dev.panamaformer.model;

/** A checkpoint that cannot be read: truncated, corrupt, or made for another model. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }
}
