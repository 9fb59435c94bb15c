package dev.panamaformer.kernels;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
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
        TileShape.forced(); // a bad -Dpanamaformer.tile fails here, with its value, not in a class initializer
        if (requested < 0) {
            return KernelSet.scalar("forced by -D" + PROPERTY + "=scalar");
        }
        if (!vectorModuleReadable()) {
            String why = VECTOR_MODULE + " is not readable; run with --add-modules " + VECTOR_MODULE + " for the SIMD kernels";
            LOG.log(Level.WARNING, "Panamaformer uses its scalar kernels: " + why);
            return KernelSet.scalar(why);
        }
        if (!fusedMultiplyAddInHardware()) {
            String why = "this JVM has no fused multiply-add instruction (-XX:-UseFMA, as under -XX:UseAVX=0 or on a CPU "
                    + "without FMA), so the Vector API would compute every fma in software, far slower than scalar code";
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

    /**
     * Whether HotSpot turns the Vector API's fma into one instruction. Where it does not
     * ({@code UseFMA} false), {@code FloatVector.fma} falls back to {@code Math.fma} per lane, which
     * is exact in software: a loop of independent FMA chains like {@code FmaPeakBenchmark}'s ran below
     * 0.1 GFLOPS under {@code -XX:UseAVX=0} (AMD EPYC Zen 5; a throwaway probe, not kept). A JVM without the
     * flag (not HotSpot) is taken to have it.
     */
    static boolean fusedMultiplyAddInHardware() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return hotspot == null || !"false".equals(hotspot.getVMOption("UseFMA").getValue());
        } catch (RuntimeException | LinkageError e) {
            return true;
        }
    }

    /** The SIMD kernels regardless of the system property, or an exception saying why there are none. */
    static KernelSet simd() {
        TileShape.forced(); // as in choose(): a bad -Dpanamaformer.tile fails with its value
        if (!vectorModuleReadable()) {
            throw new IllegalStateException(VECTOR_MODULE + " is not readable; run with --add-modules " + VECTOR_MODULE);
        }
        if (requestedBits() < 0) {
            throw new IllegalStateException("SIMD kernels are disabled by -D" + PROPERTY + "=scalar");
        }
        if (!fusedMultiplyAddInHardware()) {
            throw new IllegalStateException("SIMD kernels would compute every fma in software: this JVM has -XX:-UseFMA");
        }
        return SimdKernels.create();
    }
}
