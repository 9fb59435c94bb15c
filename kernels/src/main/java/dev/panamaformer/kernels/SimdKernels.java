package dev.panamaformer.kernels;

/** Builds the Vector API implementations; the only door from the provider to the SIMD classes. */
final class SimdKernels {
    private SimdKernels() {
    }

    static KernelSet create() {
        return new KernelSet(new SimdMatmul(), new SimdSoftmax(), new SimdNorm(), new SimdActivation(),
                new SimdDropout(), new SimdElementwise(), new SimdOptimizer(), new SimdAttention(),
                new SimdRotary(), new SimdBias(), "SIMD " + SimdSpecies.FLOAT.vectorBitSize() + "-bit (" + SimdSpecies.FLOAT.length() + " float lanes), "
                        + "GEMM " + SimdPanelTile.SHAPE.description() + ", fused attention " + SimdTile.SHAPE.description());
    }

    static int lanes() {
        return SimdSpecies.FLOAT.length();
    }

    static int preferredBits() {
        return SimdSpecies.preferredBits();
    }
}
