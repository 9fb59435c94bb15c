package dev.panamaformer.kernels;

/** One implementation of every kernel family, all scalar or all SIMD. */
record KernelSet(MatmulKernel matmul, SoftmaxKernel softmax, NormKernel norm, ActivationKernel activation,
                 DropoutKernel dropout, ElementwiseKernel elementwise, OptimizerKernel optimizer,
                 AttentionKernel attention, RotaryKernel rotary, BiasKernel bias, String description) {

    static KernelSet scalar(String why) {
        return new KernelSet(new ScalarMatmul(), new ScalarSoftmax(), new ScalarNorm(), new ScalarActivation(),
                new ScalarDropout(), new ScalarElementwise(), new ScalarOptimizer(), new ScalarAttention(),
                new ScalarRotary(), new ScalarBias(), "scalar (" + why + ")");
    }

    /** Floats per vector register in use; 1 for scalar. */
    int floatLanes() {
        return vectorized() ? SimdKernels.lanes() : 1;
    }

    boolean vectorized() {
        return !(matmul instanceof ScalarMatmul);
    }
}
