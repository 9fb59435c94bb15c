package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The provider picks what the JVM's flags ask for. Each surefire execution passes
 * {@code -Dpanamaformer.expect}: simd-preferred, simd-256, simd-128, scalar or fallback.
 */
class ProviderTest {

    @Test
    void choosesWhatTheFlagsAskFor() {
        String expect = System.getProperty("panamaformer.expect", "simd-preferred");
        Kernels k = Kernels.defaults();
        switch (expect) {
            case "simd-preferred" -> assertTrue(k.isVectorized() && k.floatLanes() >= 4, k.description());
            case "simd-256" -> assertEquals(Math.min(8, preferredLanes()), k.floatLanes(), k.description());
            case "simd-128" -> assertEquals(4, k.floatLanes(), k.description());
            case "scalar" -> {
                assertFalse(k.isVectorized(), k.description());
                assertTrue(k.description().contains("forced"), k.description());
            }
            case "fallback" -> {
                assertFalse(KernelProvider.vectorModuleReadable());
                assertFalse(k.isVectorized(), k.description());
                assertTrue(k.description().contains("--add-modules jdk.incubator.vector"), k.description());
                assertThrows(IllegalStateException.class, () -> Kernels.simd(1));
            }
            default -> throw new AssertionError("unknown panamaformer.expect " + expect);
        }
    }

    private static int preferredLanes() {
        return SimdKernels.preferredBits() / Float.SIZE;
    }

    @Test
    void aThreadCountChangesNothingButTheCount() {
        Kernels k = Kernels.withThreads(3);
        assertEquals(3, k.threads());
        assertEquals(Kernels.defaults().isVectorized(), k.isVectorized());
        assertThrows(IllegalArgumentException.class, () -> Kernels.withThreads(0));
    }

    @Test
    void aBadPropertyValueIsNamedInTheError() {
        String old = System.getProperty(KernelProvider.PROPERTY);
        try {
            System.setProperty(KernelProvider.PROPERTY, "1024");
            var e = assertThrows(IllegalArgumentException.class, KernelProvider::requestedBits);
            assertTrue(e.getMessage().contains("'1024'"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(KernelProvider.PROPERTY);
            } else {
                System.setProperty(KernelProvider.PROPERTY, old);
            }
        }
    }
}
