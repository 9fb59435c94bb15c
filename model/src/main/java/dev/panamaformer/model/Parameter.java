package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;

/**
 * A trainable tensor and its gradient, named after the PyTorch state_dict key of the same
 * weight (matrices of linear layers are (out, in), as nn.Linear stores them). Both are views of
 * the flat buffers of {@link Parameters}: the value once the model is built, the gradient of an
 * open {@link Trainer} or, without one, of the model's own backward pass; a model used only for
 * inference never allocates gradients.
 */
public final class Parameter {

    /** How {@link Parameters#initialize} fills the value. */
    public enum Init {
        /** Glorot and Bengio's uniform U(-a, a), a = sqrt(6 / (fan_in + fan_out)). */
        XAVIER,
        ZEROS,
        ONES
    }

    private final String name;
    private final int[] shape;
    private final long size;
    private final Init init;
    private final long offset;
    private final Parameters owner;
    private FloatTensor value;
    /** Bound and unbound under the lock of {@link Parameters}; read by every backward pass. */
    private volatile FloatTensor grad;
    /**
     * The gradient is known to be all zeros: set by a trainer's step just after it zeroed the
     * gradients, and cleared by the step's end. The product that writes the whole gradient may then
     * store into it rather than add to it ({@link #takeZeroGrad()}). Only the trainer sets it, as
     * its step runs no caller's code between the zeroing and the backward pass; a caller of
     * {@link Transformer#backward()} may have put something in the gradients, which then add up.
     */
    private boolean zeroGrad;

    Parameter(String name, int[] shape, long size, Init init, long offset, Parameters owner) {
        this.name = name;
        this.shape = shape.clone();
        this.size = size;
        this.init = init;
        this.offset = offset;
        this.owner = owner;
    }

    public String name() {
        return name;
    }

    /** The values: a view of {@link Parameters#values()} at {@link #offset()}. */
    public FloatTensor value() {
        FloatTensor v = value;
        if (v == null) {
            throw new IllegalStateException("parameter " + name + " is not allocated yet: the model is still being built");
        }
        return v;
    }

    /**
     * The gradient: a view of {@link Parameters#gradients()} at {@link #offset()}, an open
     * trainer's; without one, the first call allocates the model's own for all its parameters (zeros).
     */
    public FloatTensor grad() {
        FloatTensor g = grad;
        // unbound: the model's own, made now (a view of them, not a second read of the field, which
        // a trainer closing on another thread could clear again)
        return g != null ? g : owner.gradients().view(offset, shape);
    }

    public Init init() {
        return init;
    }

    public int[] shape() {
        return shape.clone();
    }

    public long size() {
        return size;
    }

    /** Where this parameter starts in the flat buffers, in floats (a multiple of 16: 64-byte aligned). */
    public long offset() {
        return offset;
    }

    void bindValue(FloatTensor flat) {
        value = flat.view(offset, shape);
    }

    void bindGrad(FloatTensor flat) {
        grad = flat.view(offset, shape);
    }

    void unbindGrad() {
        grad = null;
    }

    void markZeroGrad(boolean zero) {
        zeroGrad = zero;
    }

    /**
     * Whether the gradient is still all zeros, which the caller is about to change: true at most
     * once after each {@link #markZeroGrad(boolean) mark}. A product that writes every element of
     * the gradient stores with beta 0 when this is true and adds with beta 1 otherwise: the same
     * bits, without reading the zeros back.
     */
    boolean takeZeroGrad() {
        boolean zero = zeroGrad;
        zeroGrad = false;
        return zero;
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(shape);
    }
}
