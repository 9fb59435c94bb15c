package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

/**
 * Measures every register tile on every instruction set this CPU can give the JIT, each in a JVM
 * of its own (the tile and the JIT's register file are fixed per JVM): the SIMD GEMM at 256³ on
 * one thread against {@link FmaPeakBenchmark}'s peak at the same width, in the same JVM. The table
 * in {@code TileShape}'s documentation comes from it.
 *
 * <pre>
 *   bench/run --main TileSweep                       every ISA below and every tile (~7 min)
 *   bench/run --main TileSweep avx2 4x3,4x2          some ISAs, some tiles
 *   bench/run --main TileSweep avx2 4x3 -J-XX:+PrintCompilation   with JVM flags for the children
 * </pre>
 * ISAs: {@code native} (what the JVM chooses), {@code avx2} ({@code -XX:UseAVX=2}: 256-bit, 16
 * registers), {@code avx1} ({@code -XX:UseAVX=1}: 128-bit, 16 registers), {@code 256-of-512}
 * and {@code 128-of-512} (narrower vectors with AVX-512's 32 registers; the second is the shape of
 * ARM NEON). Best of a few seconds each, after a warm-up: the ratio is what counts, not the time.
 */
public final class TileSweep {
    private static final String[] ISAS = {"native", "avx2", "avx1", "256-of-512", "128-of-512"};
    private static final String[] TILES = {"4x4", "4x3", "4x2"};
    private static final int SIZE = 256;

    private TileSweep() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child();
            return;
        }
        List<String> jvm = new ArrayList<>(), rest = new ArrayList<>();
        for (String arg : args) {
            (arg.startsWith("-J") ? jvm : rest).add(arg.startsWith("-J") ? arg.substring(2) : arg);
        }
        String[] isas = rest.size() > 0 ? rest.get(0).split(",") : ISAS;
        String[] tiles = rest.size() > 1 ? rest.get(1).split(",") : TILES;
        System.out.println("CPU: " + Machine.cpu());
        System.out.println("| ISA | JVM flags | kernels | GEMM 256³ GFLOPS | FMA peak GFLOPS | share |");
        System.out.println("|---|---|---|---|---|---|");
        for (String isa : isas) {
            for (String tile : tiles) {
                List<String> flags = flags(isa);
                flags.add("-Dpanamaformer.tile=" + tile);
                flags.addAll(jvm);
                System.out.println(run(isa, flags));
            }
        }
    }

    static List<String> flags(String isa) {
        List<String> flags = new ArrayList<>();
        switch (isa) {
            case "native" -> { }
            case "avx2" -> flags.add("-XX:UseAVX=2");
            case "avx1" -> flags.add("-XX:UseAVX=1");
            case "256-of-512" -> flags.add("-Dpanamaformer.kernels=256");
            case "128-of-512" -> flags.add("-Dpanamaformer.kernels=128");
            default -> throw new IllegalArgumentException("unknown ISA '" + isa + "'; one of " + String.join(", ", ISAS));
        }
        return flags;
    }

    private static String run(String isa, List<String> flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.addAll(flags);
        command.add("-Dpanamaformer.threads=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(TileSweep.class.getName());
        command.add("--child");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String result = null;
        StringBuilder all = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                all.append(line).append('\n');
                if (line.startsWith("RESULT ")) {
                    result = line.substring("RESULT ".length());
                }
            }
        }
        if (p.waitFor() != 0 || result == null) {
            throw new IllegalStateException("the child JVM " + command + " failed:\n" + all);
        }
        String[] r = result.split("\t");
        double gemm = Double.parseDouble(r[1]), peak = Double.parseDouble(r[2]);
        return String.format("| %s | `%s` | %s | %.1f | %.1f | %.0f %% |", isa, String.join(" ", flags), r[0], gemm, peak,
                100 * gemm / peak);
    }

    private static void child() {
        Kernels kernels = Kernels.defaults();
        try (Arena arena = Arena.ofConfined()) {
            Random random = new Random(42);
            FloatTensor a = random(arena, random), b = random(arena, random), c = FloatTensor.allocate(arena, SIZE, SIZE);
            double flops = 2.0 * SIZE * SIZE * SIZE;
            double gemm = rate(() -> {
                kernels.matmul().gemm(false, false, SIZE, SIZE, SIZE, 1f, a, b, 0f, c);
                return c.get(0);
            }, flops);
            double perCall = 2.0 * FmaPeakBenchmark.lanes() * FmaPeakBenchmark.ITERATIONS;
            double peak = Math.max(rate(() -> FmaPeakBenchmark.chains12(1f), 12 * perCall),
                    rate(() -> FmaPeakBenchmark.chains16(1f), 16 * perCall));
            System.out.println("RESULT " + kernels.description() + "\t" + gemm / 1e9 + "\t" + peak / 1e9);
        }
    }

    /** Operations per second over the best of 20 windows of 0.15 s after 3 s of warm-up. */
    private static double rate(DoubleSupplier call, double opsPerCall) {
        double sink = 0;
        long warm = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warm) {
            sink += call.getAsDouble();
        }
        double best = 0;
        for (int w = 0; w < 20; w++) {
            long start = System.nanoTime(), calls = 0, now;
            do {
                sink += call.getAsDouble();
                calls++;
                now = System.nanoTime();
            } while (now - start < 150_000_000L);
            best = Math.max(best, calls * opsPerCall / ((now - start) * 1e-9));
        }
        if (sink == 42.4242) {
            System.out.println();
        }
        return best;
    }

    private static FloatTensor random(Arena arena, Random random) {
        float[] v = new float[SIZE * SIZE];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextFloat() * 2f - 1f;
        }
        return FloatTensor.of(arena, v, SIZE, SIZE);
    }
}
