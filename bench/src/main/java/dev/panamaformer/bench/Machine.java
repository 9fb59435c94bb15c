package dev.panamaformer.bench;

import dev.panamaformer.kernels.Kernels;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a benchmark ran on, for the tables: the CPU and what the JIT was told. {@code bench/run
 * --isa avx2 --main Machine} prints one tab-separated line: the CPU, the JVM flags of this JVM
 * that choose an instruction set, and {@code Kernels.defaults().description()}.
 */
public final class Machine {
    private Machine() {
    }

    public static void main(String[] args) {
        System.out.println(describe());
    }

    /** The CPU, this JVM's instruction-set flags and the kernels chosen, tab-separated: what every figure names. */
    static String describe() {
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:UseAVX") || a.startsWith("-XX:UseSSE") || a.startsWith("-XX:MaxVectorSize")
                        || a.startsWith("-Dpanamaformer."))
                .toList();
        return cpu() + "\t" + (flags.isEmpty() ? "(none)" : String.join(" ", flags)) + "\t" + Kernels.defaults().description();
    }

    /** The CPU's model name and family, whether it has AVX-512 or AVX2, and the core count. */
    static String cpu() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            String model = field(lines, "model name", "unknown CPU");
            String family = field(lines, "cpu family", "?");
            String flags = " " + field(lines, "flags", "") + " ";
            String simd = flags.contains(" avx512f ") ? "AVX-512" : flags.contains(" avx2 ") ? "AVX2" : "no AVX2";
            return model + " (family " + family + ", " + simd + "), " + Runtime.getRuntime().availableProcessors() + " cores";
        } catch (IOException e) {
            return System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores";
        }
    }

    private static String field(List<String> lines, String name, String otherwise) {
        return lines.stream().filter(l -> l.startsWith(name)).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(otherwise);
    }
}
