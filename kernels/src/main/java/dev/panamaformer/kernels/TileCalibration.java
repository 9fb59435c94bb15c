package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.SimdSpecies.FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Chooses the tile for 16 vector registers by timing its two micro-kernels, once per JVM and per
 * {@link Form}: fused attention's over strided native segments ({@link SimdTile16}) when
 * {@link SimdTile} is first used, the GEMM's over packed heap panels ({@link SimdPanelKernels})
 * when {@link SimdPanelTile} is. The register count does not decide it, and the two kinds of
 * kernel rank the shapes differently: on an AMD Zen 4 under AVX2, over strided segments, 4x3 ran
 * the GEMM at 65-67 % of the FMA peak and 4x2 at 44 %; over packed heap panels 4x2 ran 79 % and
 * 4x3 40 % ({@code TileSweep}, GEMM 256³). On a Zen 3 (the probe in issue 11, heap arrays) 4x2
 * ran 89.5 GFLOPS and every 12-accumulator tile about 40; on an Intel Xeon model 207 (segments)
 * they were within 10 % of each other.
 *
 * <p>The kernels run as the GEMM runs them: 4 rows of an A block packed by rows by one panel of
 * B packed NR columns wide, both of depth {@link #DEPTH}, 16 rows of A by 48 vectors of B columns
 * per round (the same flops for both shapes; B is 96 KB per vector lane, in L2 as the GEMM's packed
 * block is). The two alternate in slices of {@link #SLICE_NANOS} until both have reached C2's code:
 * each keeps its best slice, and the measurement ends once both run at C2's speed (above
 * {@link #COMPILED_FLOPS}, and within 4x of each other: the two have differed by at most 2.2x on
 * any CPU measured) and neither best has improved by more than 3 % over the last
 * {@link #STABLE_TURNS} turns, after at least {@link #MIN_NANOS}; or at {@link #MAX_NANOS} on a
 * machine too busy for that, or a JIT without C2 (then unmeasured: see {@link Result}). It
 * takes 0.3-0.5 s per form on a Zen 4 core under AVX2 or 128-bit vectors, most of it the
 * interpreter and the JIT's compiles, which the first products would pay anyway. Both kernels give every element the same bits (the same FMAs in the same
 * order), so the choice changes the speed only, never a result.
 */
final class TileCalibration {
    /** Depth of the packed blocks, as the GEMM's KC. */
    static final int DEPTH = SimdPanelKernels.KC;
    private static final int A_ROWS = 16;
    private static final int B_VECTORS = 48;
    private static final long SLICE_NANOS = 2_000_000L;
    private static final long MIN_NANOS = 60_000_000L;
    private static final long MAX_NANOS = 1_000_000_000L;
    private static final int STABLE_TURNS = 5;
    /**
     * Below this a kernel is taken to be still interpreted or in C1's code, where the Vector API
     * runs one to three orders of magnitude slower than in C2's (0.1-0.3 GFLOPS against 35-86 for
     * these kernels on a Zen 4 core, 128- and 256-bit); C2's code of either kernel on any x86 with
     * FMA is far above it.
     */
    private static final double COMPILED_FLOPS = 2e9;

    /**
     * What was measured: GFLOPS of the 4x3 and the 4x2 kernel, the time it took, and whether both
     * ran C2's code; if not (a JIT without C2, such as {@code -XX:TieredStopAtLevel=1}, or a
     * machine too busy to compile within {@link #MAX_NANOS}), the figures are the interpreter's
     * or C1's and decide nothing: the tile is the one of {@code form} that ran fastest on the
     * CPUs measured before, 4x3 over strided segments, 4x2 over packed heap panels.
     */
    record Result(Form form, double gflops4x3, double gflops4x2, long nanos, boolean compiled) {
        TileShape shape(int registers) {
            if (!compiled) {
                return new TileShape(4, form == Form.PACKED ? 2 : 3, String.format(Locale.ROOT, "%d vector registers; not measured: the kernels did not"
                        + " reach C2's code within %.1f s (4x3 %.1f, 4x2 %.1f GFLOPS)", registers, nanos / 1e9, gflops4x3, gflops4x2));
            }
            String why = String.format(Locale.ROOT, "%d vector registers; measured at start-up: 4x3 %.1f, 4x2 %.1f GFLOPS",
                    registers, gflops4x3, gflops4x2);
            return gflops4x2 > gflops4x3 ? new TileShape(4, 2, why) : new TileShape(4, 3, why);
        }
    }

    /** Which kernels to time. */
    enum Form {
        /** {@link SimdTile16}'s, over native segments with strides as arguments. */
        STRIDED,
        /** {@link SimdPanelKernels}' over A packed by rows, from heap arrays. */
        PACKED
    }

    private TileCalibration() {
    }

    /** Times both 16-register kernels of {@code form} as described above. */
    static Result measure(Form form) {
        long start = System.nanoTime();
        int lanes = FLOAT.length();
        // an automatic arena, as the GEMM's tile buffer and fused attention's operands have: the
        // kernels' compiled code keeps the memory-session checks of the segments it was profiled
        // with (a confined arena here left the segment GEMM of 2026-12-06 under AVX2 at 43-56 %
        // of the FMA peak instead of 64-75 %); PACKED reads heap copies of the same values
        Arena arena = Arena.ofAuto();
        MemorySegment a = filled(arena, (long) A_ROWS * DEPTH, 3);
        MemorySegment b = filled(arena, (long) DEPTH * B_VECTORS * lanes, 5);
        MemorySegment d = arena.allocate((long) 4 * 3 * lanes * Float.BYTES, FloatTensor.ALIGNMENT);
        Operands operands = form == Form.PACKED
                ? new Operands(null, null, heap(a), heap(b), d)
                : new Operands(a, b, null, null, d);
        double flopsPerRound = 2.0 * A_ROWS * DEPTH * B_VECTORS * lanes;
        double[] best = new double[2];
        int stableTurns = 0;
        while (true) {
            boolean improved = false;
            for (int vectors = 3; vectors >= 2; vectors--) {
                double rate = slice(vectors, operands, flopsPerRound);
                double previous = best[3 - vectors];
                if (rate > previous * 1.03) {
                    improved = true;
                }
                best[3 - vectors] = Math.max(previous, rate);
            }
            stableTurns = improved ? 0 : stableTurns + 1;
            long elapsed = System.nanoTime() - start;
            boolean compiled = Math.min(best[0], best[1]) >= COMPILED_FLOPS
                    && Math.min(best[0], best[1]) >= Math.max(best[0], best[1]) / 4;
            if (elapsed >= MAX_NANOS || (elapsed >= MIN_NANOS && compiled && stableTurns >= STABLE_TURNS)) {
                return new Result(form, best[0] / 1e9, best[1] / 1e9, elapsed, compiled);
            }
        }
    }

    /** What the kernels read, from native segments (STRIDED) or heap arrays (PACKED), and the tile they write. */
    private record Operands(MemorySegment a, MemorySegment b, float[] heapA, float[] heapB, MemorySegment d) {
    }

    /** Flops per second of one slice of rounds with the 4 x {@code vectors} kernel. */
    private static double slice(int vectors, Operands operands, double flopsPerRound) {
        long start = System.nanoTime(), now;
        int rounds = 0;
        do {
            if (operands.heapA() != null) {
                packedRound(vectors, operands.heapA(), operands.heapB(), operands.d());
            } else {
                round(vectors, operands.a(), operands.b(), operands.d());
            }
            rounds++;
            now = System.nanoTime();
        } while (now - start < SLICE_NANOS);
        return rounds * flopsPerRound / ((now - start) * 1e-9);
    }

    /** Every 4-row tile of A by every B panel NR = {@code vectors} x lanes wide. */
    private static void round(int vectors, MemorySegment a, MemorySegment b, MemorySegment d) {
        int nr = vectors * FLOAT.length();
        int panels = B_VECTORS / vectors;
        for (int i = 0; i < A_ROWS; i += 4) {
            long aOff = (long) i * DEPTH;
            for (int j = 0; j < panels; j++) {
                long bOff = (long) j * DEPTH * nr;
                if (vectors == 3) {
                    SimdTile16.multiply4x3(DEPTH, a, aOff, DEPTH, 1, b, bOff, nr, d, 0, nr);
                } else {
                    SimdTile16.multiply4x2(DEPTH, a, aOff, DEPTH, 1, b, bOff, nr, d, 0, nr);
                }
            }
        }
    }

    /** {@link #round} over the same operands in heap arrays, A packed by rows (its rows DEPTH apart). */
    private static void packedRound(int vectors, float[] a, float[] b, MemorySegment d) {
        int nr = vectors * FLOAT.length();
        int panels = B_VECTORS / vectors;
        for (int i = 0; i < A_ROWS; i += 4) {
            for (int j = 0; j < panels; j++) {
                if (vectors == 3) {
                    SimdPanelKernels.multiply4x3Rows(DEPTH, a, i * DEPTH, b, j * DEPTH * nr, d, 0, nr);
                } else {
                    SimdPanelKernels.multiply4x2Rows(DEPTH, a, i * DEPTH, b, j * DEPTH * nr, d, 0, nr);
                }
            }
        }
    }

    private static float[] heap(MemorySegment s) {
        return s.toArray(JAVA_FLOAT);
    }

    /** Small exact values (multiples of 1/8 in [-1, 1]): no overflow, no subnormal slow path. */
    private static MemorySegment filled(Arena arena, long floats, int seed) {
        MemorySegment s = arena.allocate(floats * Float.BYTES, FloatTensor.ALIGNMENT);
        for (long i = 0; i < floats; i++) {
            s.setAtIndex(JAVA_FLOAT, i, ((i * seed) % 17 - 8) / 8f);
        }
        return s;
    }
}
