package dev.panamaformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Scratch memory for one thread of a blocked matrix product: the packed panels of op(A) and
 * op(B), and one register tile that every micro-kernel call stores to before it is scaled into C.
 * Allocated once per thread by {@link Matmul}.
 */
final class GemmWorkspace {
    final MemorySegment packedA;
    final MemorySegment packedB;
    final MemorySegment tile;

    GemmWorkspace(Arena arena, long packedAFloats, long packedBFloats, long tileFloats) {
        this.packedA = arena.allocate(packedAFloats * Float.BYTES, FloatTensor.ALIGNMENT);
        this.packedB = arena.allocate(packedBFloats * Float.BYTES, FloatTensor.ALIGNMENT);
        this.tile = arena.allocate(tileFloats * Float.BYTES, FloatTensor.ALIGNMENT);
    }
}
