package dev.panamaformer.bench;

import java.lang.management.ManagementFactory;

/**
 * Bytes allocated per training step once the JIT has settled: a plain loop of steps after many
 * warm-up steps, counted by {@code getTotalThreadAllocatedBytes} over every thread, so the
 * figure holds no harness overhead (JMH's {@code -prof gc} spreads its own per-iteration
 * allocation over the few steps of a slow iteration). With {@code
 * JAVA_TOOL_OPTIONS=-XX:-UseTLAB} and JFR recording {@code jdk.ObjectAllocationOutsideTLAB}, every
 * allocation that escape analysis leaves shows with its stack.
 *
 * <p>Give it enough warm-up steps: a kernel called only a few times per step (the loss's) reaches
 * C2 after hundreds of calls and runs its vector code in the interpreter until then, one
 * allocation per operation. Under {@code -XX:UseAVX=2}, {@code addition 60 40} counted 6-30 KB
 * per step in most JVMs, all of it from an interpreted {@code SimdSoftmax.nllBackward};
 * {@code addition 110 40} 88 B (bench/README.md, 2026-12-08).
 *
 * <pre>bench/run [--isa avx2] --main StepAllocations [task] [warm-up steps] [measured steps]</pre>
 */
public final class StepAllocations {
    private StepAllocations() {
    }

    public static void main(String[] args) {
        String task = args.length > 0 ? args[0] : "parser";
        int warm = args.length > 1 ? Integer.parseInt(args[1]) : 120;
        int measured = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (TaskStep step = new TaskStep(task)) {
            long start = System.nanoTime();
            for (int i = 0; i < warm; i++) {
                step.step();
            }
            double warmSeconds = (System.nanoTime() - start) / 1e9;
            long before = threads.getTotalThreadAllocatedBytes();
            start = System.nanoTime();
            for (int i = 0; i < measured; i++) {
                step.step();
            }
            double ms = (System.nanoTime() - start) / 1e6 / measured;
            double bytes = (threads.getTotalThreadAllocatedBytes() - before) / (double) measured;
            System.out.println(Machine.describe());
            System.out.printf("%s: %d warm-up steps (%.1f s), then %d steps at %.1f ms: %.1f bytes allocated per step%n",
                    task, warm, warmSeconds, measured, ms, bytes);
        }
    }
}
