package dev.panamaformer.kernels;

import java.lang.foreign.MemorySegment;

/** Element-wise activations over {@code [from, to)}; see {@link Activations}. */
interface ActivationKernel {
    /** {@code y = max(x, 0)}. */
    void reluForward(MemorySegment x, MemorySegment y, long from, long to);

    /** {@code dx += x > 0 ? dy : 0}. */
    void reluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to);

    /** GELU, tanh form: {@code y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    void geluForward(MemorySegment x, MemorySegment y, long from, long to);

    /** {@code dx += gelu'(x) * dy}. */
    void geluBackward(MemorySegment x, MemorySegment dy, MemorySegment dx, long from, long to);
}
