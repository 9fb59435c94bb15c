package dev.panamaformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Scratch memory for one thread of a blocked matrix product: the packed panels of op(A) and
 * op(B), in heap arrays (see {@link SimdPanelKernels} for why), and one register tile that every
 * micro-kernel call stores to before it is scaled into C. Allocated once per thread by
 * {@link Matmul}.
 */
final class GemmWorkspace {
    final float[] packedA;
    final float[] packedB;
    final MemorySegment tile;

    GemmWorkspace(Arena arena, int packedAFloats, int packedBFloats, long tileFloats) {
        this.packedA = new float[packedAFloats];
        this.packedB = new float[packedBFloats];
        this.tile = arena.allocate(tileFloats * Float.BYTES, FloatTensor.ALIGNMENT);
    }
}
