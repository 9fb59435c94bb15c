package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Activation and gradient buffers for one (batch, source length, target length) shape,
 * allocated once and reused by every step of that shape. Activations are named, so that a
 * non-finite value can be traced to the first tensor that holds one.
 */
final class Workspace implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final int fusedAttentionFrom;
    private final Map<String, FloatTensor> activations = new LinkedHashMap<>();
    private final List<FloatTensor> gradients = new ArrayList<>();
    private long bytes;

    /** Buffers for attention that takes the fused kernel over {@code fusedAttentionFrom} keys or more. */
    Workspace(int fusedAttentionFrom) {
        this.fusedAttentionFrom = fusedAttentionFrom;
    }

    /** See {@link RunOptions#fusedAttentionFrom()}. */
    int fusedAttentionFrom() {
        return fusedAttentionFrom;
    }

    FloatTensor activation(String name, int... shape) {
        FloatTensor t = FloatTensor.allocate(arena, shape);
        if (activations.put(name, t) != null) {
            throw new IllegalStateException("activation " + name + " allocated twice");
        }
        bytes += t.size() * Float.BYTES;
        return t;
    }

    /**
     * A buffer the forward pass saves for the backward pass that is neither an activation
     * (checked for non-finite values: a saved log-sum-exp is -inf for a query that sees no key)
     * nor a gradient (cleared before each backward pass).
     */
    FloatTensor saved(int... shape) {
        FloatTensor t = FloatTensor.allocate(arena, shape);
        bytes += t.size() * Float.BYTES;
        return t;
    }

    FloatTensor gradient(int... shape) {
        FloatTensor t = FloatTensor.allocate(arena, shape);
        gradients.add(t);
        bytes += t.size() * Float.BYTES;
        return t;
    }

    /** Backward passes add into gradients; this clears them all first. */
    void zeroGradients() {
        for (int i = 0; i < gradients.size(); i++) { // by index: an iterator per step is an allocation
            gradients.get(i).fill(0f);
        }
    }

    Map<String, FloatTensor> activations() {
        return activations;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        arena.close();
    }
}
