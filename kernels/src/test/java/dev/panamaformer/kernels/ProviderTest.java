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
            case "scalar-without-fma" -> {
                // -XX:UseAVX=0: no FMA instruction on x86; elsewhere the flag is ignored
                String arch = System.getProperty("os.arch");
                if (arch.equals("amd64") || arch.equals("x86_64")) {
                    assertFalse(KernelProvider.fusedMultiplyAddInHardware());
                    assertFalse(k.isVectorized(), k.description());
                    assertTrue(k.description().contains("no fused multiply-add"), k.description());
                    assertThrows(IllegalStateException.class, () -> Kernels.simd(1));
                } else {
                    assertTrue(k.isVectorized(), k.description());
                }
            }
            default -> throw new AssertionError("unknown panamaformer.expect " + expect);
        }
    }

    /**
     * Both tiles follow the register file: 4x4 with 32 vector registers, with 16 the faster of 4x3
     * and 4x2 as timed at start-up for each kind of kernel, or what {@code -Dpanamaformer.tile} forces. {@code panamaformer.expect.registers} (16 under
     * {@code -XX:UseAVX=2} and {@code =1}) is checked on x86 only: elsewhere the flag is ignored.
     */
    @Test
    void theTileFitsTheRegisterFile() {
        Kernels k = Kernels.defaults();
        if (!k.isVectorized()) {
            return;
        }
        int registers = TileShape.vectorRegisters(SimdKernels.preferredBits());
        String expectedRegisters = System.getProperty("panamaformer.expect.registers");
        String arch = System.getProperty("os.arch");
        if (expectedRegisters != null && (arch.equals("amd64") || arch.equals("x86_64"))) {
            assertEquals(Integer.parseInt(expectedRegisters), registers, k.description());
        }
        String expected = System.getProperty("panamaformer.expect.tile");
        // the GEMM's packed kernels and fused attention's strided ones, each chosen on its own
        for (String tile : new String[] {SimdPanelTile.MR + "x" + SimdPanelTile.NR / k.floatLanes(),
                SimdTile.MR + "x" + SimdTile.NR / k.floatLanes()}) {
            if (expected != null) {
                assertEquals(expected, tile, k.description());
            } else if (registers >= 32) {
                assertEquals("4x4", tile, k.description());
            } else {
                assertTrue(tile.equals("4x3") || tile.equals("4x2"), k.description());
                assertTrue(k.description().contains("measured at start-up") || k.description().contains("not measured"), k.description());
            }
        }
        assertTrue(k.description().contains("GEMM " + SimdPanelTile.MR + "x" + SimdPanelTile.NR / k.floatLanes() + "-vector tile"),
                k.description());
        assertTrue(k.description().contains("fused attention " + SimdTile.MR + "x" + SimdTile.NR / k.floatLanes() + "-vector tile"),
                k.description());
    }

    @Test
    void aBadTileIsNamedInTheError() {
        withProperty(TileShape.PROPERTY, "5x5", () -> {
            var e = assertThrows(IllegalArgumentException.class, TileShape::forced);
            assertTrue(e.getMessage().contains("'5x5'") && e.getMessage().contains(TileShape.SHAPES), e.getMessage());
        });
        withProperty(TileShape.PROPERTY, "4x3", () ->
                assertEquals(new TileShape(4, 3, "forced by -D" + TileShape.PROPERTY + "=4x3"), TileShape.forced()));
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
        withProperty(KernelProvider.PROPERTY, "1024", () -> {
            var e = assertThrows(IllegalArgumentException.class, KernelProvider::requestedBits);
            assertTrue(e.getMessage().contains("'1024'"), e.getMessage());
        });
    }

    /** Runs {@code body} with a system property set, then puts back what was there. */
    private static void withProperty(String name, String value, Runnable body) {
        String old = System.getProperty(name);
        try {
            System.setProperty(name, value);
            body.run();
        } finally {
            if (old == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, old);
            }
        }
    }
}
