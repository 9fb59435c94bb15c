package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer on the module path: a module that says {@code requires dev.panamaformer.model}
 * compiles against the kernels' and the model's module descriptors and runs with no
 * {@code --add-modules} (the kernels' descriptor requires the vector module), getting the SIMD
 * kernels when this JVM has them, and cannot reach the implementations.
 */
class ModulePathConsumerTest {

    private static final String MODULE = """
            module consumer {
                requires dev.panamaformer.model;
            }
            """;

    private static final String MAIN = """
            package consumer;

            import dev.panamaformer.kernels.Kernels;
            import dev.panamaformer.model.Decoding;
            import dev.panamaformer.model.Transformer;
            import dev.panamaformer.model.TransformerConfig;

            public class Main {
                public static void main(String[] args) throws Exception {
                    TransformerConfig config = TransformerConfig.of(12, 16, 1, 2, 24, 16);
                    try (Transformer model = new Transformer(config, 1)) {
                        int[][] out = Decoding.greedy(model, new int[][] {{3, 4, 5}}, 1, 2, 5);
                        System.out.println("decoded " + out[0].length + " tokens");
                    }
                    System.out.println("kernels: " + Kernels.defaults().description());
                    System.out.println("vectorized: " + Kernels.defaults().isVectorized());
                    try {
                        Class.forName("dev.panamaformer.kernels.SimdTile").getDeclaredConstructor().setAccessible(true);
                        System.out.println("implementation reachable");
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        System.out.println("implementation sealed: " + e.getClass().getSimpleName());
                    }
                }
            }
            """;

    /** Where a class was loaded from: a modular jar or a classes directory with its module-info.class. */
    private static Path home(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void aModuleThatRequiresTheModelCompilesAndRunsWithoutAddModules(@TempDir Path dir) throws Exception {
        Path kernels = home(Kernels.class), model = home(Transformer.class);
        for (Path p : List.of(kernels, model)) {
            assertTrue(Files.isDirectory(p) ? Files.exists(p.resolve("module-info.class")) : p.toString().endsWith(".jar"),
                    p + " should hold a module descriptor");
        }
        Path src = dir.resolve("src"), out = dir.resolve("out");
        Files.createDirectories(src.resolve("consumer"));
        Files.writeString(src.resolve("module-info.java"), MODULE);
        Files.writeString(src.resolve("consumer/Main.java"), MAIN);
        String modulePath = kernels + File.pathSeparator + model;

        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow();
        StringWriter diagnostics = new StringWriter();
        PrintWriter log = new PrintWriter(diagnostics);
        int compiled = javac.run(log, log, "--release", "22", "--module-path", modulePath, "-d", out.toString(),
                "-Xlint:-incubating", src.resolve("module-info.java").toString(), src.resolve("consumer/Main.java").toString());
        assertEquals(0, compiled, "the consumer module compiles:\n" + diagnostics);

        Path launcher = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(launcher.toString(), "--module-path", out + File.pathSeparator + modulePath,
                "-m", "consumer/consumer.Main").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the consumer ends");
        System.out.print("module-path consumer printed:\n" + output);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("decoded "), output);
        assertTrue(output.contains("vectorized: " + Kernels.defaults().isVectorized()),
                "the vector module comes with the kernels' descriptor, no --add-modules:\n" + output);
        assertTrue(output.contains("implementation sealed"), output);
    }
}
