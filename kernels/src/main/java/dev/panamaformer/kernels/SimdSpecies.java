package dev.panamaformer.kernels;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of the SIMD kernels, fixed once per JVM. They are static finals because C2
 * only turns Vector API calls into machine instructions when the species is a constant.
 * Loaded only after {@link KernelProvider} has found the vector module readable.
 *
 * <p>The kernels call {@code FloatVector.fromMemorySegment} and {@code intoMemorySegment}
 * directly rather than through small helpers of ours: the JDK's methods are always inlined,
 * ours only while C2's budget lasts, and a vector passed to a method that was not inlined is
 * boxed on the heap.
 */
final class SimdSpecies {
    static final VectorSpecies<Float> FLOAT = chooseFloat();
    static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, FLOAT.vectorShape());
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /**
     * Lane i with lane i ^ k. A lane sum adds lanes in this fixed butterfly order:
     * {@code v = v.add(v.rearrange(SWAP_k))} for k = 8, 4, 2, 1 where k < lanes, then lane 0. Each
     * kernel writes it out where it sums: a vector passed to a helper that C2 leaves out of line is
     * boxed. Not {@code reduceLanes(ADD)}, which may add lanes in one order when C2 compiles it and
     * in another when it does not, so a kernel's bits would depend on the JIT; shuffles and adds
     * are exact and the same everywhere.
     */
    static final VectorShuffle<Float> SWAP_8 = swap(8);
    static final VectorShuffle<Float> SWAP_4 = swap(4);
    static final VectorShuffle<Float> SWAP_2 = swap(2);
    static final VectorShuffle<Float> SWAP_1 = swap(1);

    private SimdSpecies() {
    }

    private static VectorSpecies<Float> chooseFloat() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int requested = KernelProvider.requestedBits();
        int bits = requested > 0 ? Math.min(requested, preferred) : preferred;
        return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    /** The widest float vector this CPU prefers, in bits. */
    static int preferredBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    private static VectorShuffle<Float> swap(int k) {
        return VectorShuffle.fromOp(FLOAT, i -> (i ^ k) % FLOAT.length());
    }
}
