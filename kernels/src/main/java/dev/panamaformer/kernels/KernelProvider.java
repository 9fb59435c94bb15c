package dev.panamaformer.kernels;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Chooses, once, between the scalar and the SIMD kernels, and says why when it falls back to
 * scalar. {@code -Dpanamaformer.kernels=scalar|128|256|512|auto} forces scalar or a vector width.
 */
final class KernelProvider {
    static final String PROPERTY = "panamaformer.kernels";
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final System.Logger LOG = System.getLogger(KernelProvider.class.getName());

    private KernelProvider() {
    }

    /** The vector width forced by the system property in bits, 0 for none, -1 for scalar. */
    static int requestedBits() {
        String value = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "auto", "" -> 0;
            case "scalar" -> -1;
            case "128" -> 128;
            case "256" -> 256;
            case "512" -> 512;
            default -> throw new IllegalArgumentException(
                    "-D" + PROPERTY + " must be one of auto, scalar, 128, 256, 512; got '" + value + "'");
        };
    }

    static boolean vectorModuleReadable() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE)
                .map(KernelProvider.class.getModule()::canRead)
                .orElse(false);
    }

    /** The kernels this JVM should use, logging one line when they are not the preferred SIMD ones. */
    static KernelSet choose() {
        int requested = requestedBits();
        if (requested < 0) {
            return KernelSet.scalar("forced by -D" + PROPERTY + "=scalar");
        }
        if (!vectorModuleReadable()) {
            String why = VECTOR_MODULE + " is not readable; run with --add-modules " + VECTOR_MODULE + " for the SIMD kernels";
            LOG.log(Level.WARNING, "Panamaformer uses its scalar kernels: " + why);
            return KernelSet.scalar(why);
        }
        int preferred = SimdKernels.preferredBits();
        if (preferred < 128) {
            String why = "this CPU's preferred vector width is " + preferred + " bits, under 128";
            LOG.log(Level.WARNING, "Panamaformer uses its scalar kernels: " + why);
            return KernelSet.scalar(why);
        }
        if (requested > preferred) {
            LOG.log(Level.WARNING, "Panamaformer: -D" + PROPERTY + "=" + requested + " exceeds this CPU's preferred "
                    + preferred + "-bit vectors; using " + preferred);
        }
        return SimdKernels.create();
    }

    /** The SIMD kernels regardless of the system property, or an exception saying why there are none. */
    static KernelSet simd() {
        if (!vectorModuleReadable()) {
            throw new IllegalStateException(VECTOR_MODULE + " is not readable; run with --add-modules " + VECTOR_MODULE);
        }
        if (requestedBits() < 0) {
            throw new IllegalStateException("SIMD kernels are disabled by -D" + PROPERTY + "=scalar");
        }
        return SimdKernels.create();
    }
}
