package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;

/**
 * A trainable tensor and its gradient, named after the PyTorch state_dict key of the same
 * weight (matrices of linear layers are (out, in), as nn.Linear stores them).
 */
public record Parameter(String name, FloatTensor value, FloatTensor grad, Init init) {

    /** How {@link Parameters#initialize} fills the value. */
    public enum Init {
        /** Glorot and Bengio's uniform U(-a, a), a = sqrt(6 / (fan_in + fan_out)). */
        XAVIER,
        ZEROS,
        ONES
    }

    public int[] shape() {
        return value.shape();
    }

    public long size() {
        return value.size();
    }
}
