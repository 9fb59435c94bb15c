/**
 * Off-heap float tensors on the Foreign Memory API and the kernels of a Transformer on the Vector
 * API, each with a scalar twin: {@link dev.panamaformer.kernels.Kernels} is the entry point.
 *
 * <p>Only the API package is exported; the SIMD and scalar implementations are package-private
 * classes inside it, hidden on the class path as on the module path. The vector module is
 * required here, so a consumer on the module path needs no {@code --add-modules}; on the class
 * path, {@code --add-modules jdk.incubator.vector} enables the SIMD kernels, and without it the
 * scalar ones run.
 */
module dev.panamaformer.kernels {
    requires jdk.incubator.vector;
    requires jdk.management; // asks HotSpot whether it emits FMA (-XX:-UseFMA picks the scalar kernels)

    exports dev.panamaformer.kernels;
}
