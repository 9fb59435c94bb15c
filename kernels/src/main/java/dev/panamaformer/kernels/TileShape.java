package dev.panamaformer.kernels;

import java.util.List;
import java.util.Locale;

/**
 * The register tile of the SIMD products: {@code rows} rows of A by {@code vectors} vectors of B,
 * chosen once per JVM from the number of vector registers the JIT allocates from and, where that
 * leaves a choice, by timing the candidates ({@link TileCalibration}), or forced by
 * {@code -Dpanamaformer.tile=ROWSxVECTORS} (one of {@link #SHAPES}).
 *
 * <p>A tile keeps rows x vectors accumulators, {@code vectors} B vectors and one broadcast of A
 * live through its loop. When that exceeds the register file, C2 spills inside the loop and the
 * product runs at a third of its speed or less. The GEMM at 256³ on one thread, as a share of the
 * FMA peak in the same JVM ({@code bench/run --main TileSweep native,avx2,avx1,256-of-512,128-of-512
 * 4x4,4x3,4x2}, AMD EPYC Zen 5, JDK 25, 2026-12-02):
 * <pre>
 *   JIT                                  registers  width   4x4   4x3   4x2
 *   native (AVX-512)                     32         512     76 %  65 %  69 %
 *   -Dpanamaformer.kernels=256           32         256     87 %  81 %  60 %
 *   -Dpanamaformer.kernels=128           32         128     64 %  85 %  77 %
 *   -XX:UseAVX=2 (AVX2)                  16         256     22 %  82 %  76 %
 *   -XX:UseAVX=1                         16         128     55 %  85 %  49 %
 * </pre>
 * The same sweep on an Intel Xeon model 207 (Emerald Rapids class), the same day, before the
 * GEMM's 4x4 took {@link SimdPanelTile} (which then gave 83 % native, 79-87 % at 256 of 512):
 * <pre>
 *   native (AVX-512)                     32         512     65 %  55 %  55 %
 *   -Dpanamaformer.kernels=256           32         256     58 %  46 %  46 %
 *   -Dpanamaformer.kernels=128           32         128     68 %  52 %  64 %
 *   -XX:UseAVX=2 (AVX2)                  16         256     16 %  58 %  54 %
 *   -XX:UseAVX=1                         16         128     63 %  59 %  52 %
 * </pre>
 * Those tables ran the GEMM's kernels over native segments. Since 2026-12-07 the GEMM packs into
 * heap arrays ({@link SimdPanelKernels}), and with 16 registers that reversed the ranking: the
 * same sweep on an AMD EPYC Zen 4 ({@code bench/run --main TileSweep avx2,avx1 4x2,4x3}):
 * <pre>
 *   -XX:UseAVX=2 (AVX2)                  16         256           40 %  79 %
 *   -XX:UseAVX=1                         16         128           49 %  87 %
 * </pre>
 * while fused attention's kernels, which still read strided segments, kept 4x3 ahead (65 against
 * 44 % under AVX2). So each kind of kernel has its own shape ({@link SimdPanelTile#SHAPE},
 * {@link SimdTile#SHAPE}).
 *
 * <p>32 registers (AVX-512, ARM NEON and SVE) take 4x4, 21 live vectors. With 16 (x86 SSE and
 * AVX2) neither table nor count settles it: 4x3 (exactly 16 live vectors) or 4x2, by CPU and by
 * kind of kernel, so {@link TileCalibration} times both at start-up, per kind, and takes the
 * faster; the description names both figures. A 6x4 tile is faster still with 32
 * registers but falls out of the JIT (see {@link SimdTile}). At 128 bits with 32 registers
 * (NEON's shape) 4x3 beat 4x4 in this GEMM while the micro-kernels alone ranked 4x4 first (45.5
 * against 40.8 GFLOPS): the two runs disagree by more than the difference, so it stays 4x4 until
 * measured on ARM. Results differ from run to run by up to a third here (the JIT's choices and a
 * shared machine), so read the table for its wide gaps only. {@code -Dpanamaformer.tile} lets a
 * user measure their own CPU.
 */
record TileShape(int rows, int vectors, String why) {
    static final String PROPERTY = "panamaformer.tile";
    /**
     * The shapes {@link SimdTile} and {@link SimdPanelKernels} have micro-kernels for. The property
     * forces both kinds of kernel to one shape (for sweeps such as {@code TileSweep}); each is
     * calibrated on its own only under {@code auto}.
     */
    static final String SHAPES = "4x4, 4x3, 4x2";

    /** For example "4x4-vector tile (32 vector registers)". */
    String description() {
        return rows + "x" + vectors + "-vector tile (" + why + ")";
    }

    /**
     * The tile of the {@code form} kernels on a CPU whose widest preferred vector is
     * {@code preferredBits}, at any width the kernels use.
     */
    static TileShape choose(int preferredBits, TileCalibration.Form form) {
        TileShape forced = forced();
        if (forced != null) {
            return forced;
        }
        int registers = vectorRegisters(preferredBits);
        return registers >= 32
                ? new TileShape(4, 4, registers + " vector registers")
                : TileCalibration.measure(form).shape(registers);
    }

    /** The shape forced by the system property, null for auto; IllegalArgumentException naming a bad value. */
    static TileShape forced() {
        String value = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (value.equals("auto") || value.isEmpty()) {
            return null;
        }
        if (!List.of(SHAPES.split(", ")).contains(value)) {
            throw new IllegalArgumentException("-D" + PROPERTY + " must be auto or one of " + SHAPES + "; got '" + value + "'");
        }
        String[] parts = value.split("x");
        return new TileShape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), "forced by -D" + PROPERTY + "=" + value);
    }

    /**
     * The vector registers C2 allocates from. On x86 that is 16 (xmm/ymm 0-15) unless the JIT
     * emits AVX-512's EVEX encoding, which adds 16-31, also for 128- and 256-bit vectors; it does
     * exactly when it prefers 512-bit vectors ({@code -XX:UseAVX=3}, the default where the CPU
     * has AVX-512; {@code -XX:UseAVX=2} turns both off). AArch64 (NEON, SVE), RISC-V V and
     * POWER VSX have 32 or more.
     */
    static int vectorRegisters(int preferredBits) {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86") || arch.equals("i386");
        return !x86 || preferredBits >= 512 ? 32 : 16;
    }
}
