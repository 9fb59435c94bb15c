package dev.panamaformer.bench;

import dev.panamaformer.kernels.AttentionShape;
import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.MatrixBatch;
import dev.panamaformer.kernels.RowMask;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * Peak native memory of one attention forward and backward pass, materialized against fused,
 * measured rather than computed: each (path, length) runs in a JVM of its own with Native Memory
 * Tracking, which counts every off-heap allocation (tensors, the kernels' scratch) under "Other"
 * and keeps its peak. The extra memory of a path is that peak minus what was allocated before
 * the pass: the inputs, outputs and gradients both paths share (Q, K, V, O, dO, dQ, dK, dV).
 * Same geometry as {@link AttentionBenchmark}: one sequence, 8 heads of 64, dropout 0.1.
 *
 * <pre>bench/run --main AttentionMemory [lengths...]</pre>
 */
public final class AttentionMemory {
    private static final Pattern OTHER = Pattern.compile(
            "Other \\(reserved=\\d+KB, committed=\\d+KB\\)\\s*\\(malloc=(\\d+)KB[^)]*\\)\\s*(?:\\(peak=(\\d+)KB[^)]*\\)|\\(at peak\\))");

    private AttentionMemory() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--child")) {
            child(args[1], Integer.parseInt(args[2]));
            return;
        }
        List<Integer> lengths = new ArrayList<>();
        for (String a : args) {
            lengths.add(Integer.parseInt(a));
        }
        if (lengths.isEmpty()) {
            lengths = List.of(128, 256, 512, 1024, 2048, 4096);
        }
        System.out.println("Extra native memory of one attention forward + backward pass (1 sequence, 8 heads, d_k 64),");
        System.out.println("peak of Native Memory Tracking's 'Other' minus what the inputs, outputs and gradients hold:");
        System.out.printf("%8s %16s %14s %28s%n", "length", "materialized", "fused", "fused, bytes per added token");
        long lastFused = 0;
        int lastLength = 0;
        for (int t : lengths) {
            long materialized = run("materialized", t), fused = run("fused", t);
            String growth = lastLength == 0 ? "" : String.format("%.0f", (double) (fused - lastFused) / (t - lastLength));
            System.out.printf("%8d %12.1f MiB %10.1f KiB %28s%n", t, materialized / 1048576.0, fused / 1024.0, growth);
            lastFused = fused;
            lastLength = t;
        }
    }

    /** Runs one measurement in a fresh JVM and returns its extra bytes. */
    private static long run(String path, int length) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "-XX:NativeMemoryTracking=summary", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), AttentionMemory.class.getName(), "--child", path,
                Integer.toString(length));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(path + " at length " + length + " failed:\n" + out);
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("extra bytes: ")) {
                return Long.parseLong(line.substring("extra bytes: ".length()).trim());
            }
        }
        throw new IllegalStateException(path + " at length " + length + " printed no figure:\n" + out);
    }

    private static void child(String path, int t) throws Exception {
        int heads = AttentionBenchmark.HEADS, d = AttentionBenchmark.HEAD_SIZE, c = heads * d;
        float dropout = AttentionBenchmark.DROPOUT, scale = (float) (1 / Math.sqrt(d));
        Kernels kernels = Kernels.defaults();
        try (Arena arena = Arena.ofShared()) {
            FloatTensor[] shared = new FloatTensor[8];
            for (int i = 0; i < shared.length; i++) {
                shared[i] = FloatTensor.allocate(arena, t, c);
                shared[i].fill(0.01f * (i + 1));
            }
            MatrixBatch q = heads(shared[0], t, c, d), k = heads(shared[1], t, c, d), v = heads(shared[2], t, c, d);
            MatrixBatch o = heads(shared[3], t, c, d), dO = heads(shared[4], t, c, d);
            MatrixBatch dq = heads(shared[5], t, c, d), dk = heads(shared[6], t, c, d), dv = heads(shared[7], t, c, d);
            long base = otherMalloc()[0];
            if (path.equals("fused")) {
                FloatTensor lse = FloatTensor.allocate(arena, heads, t);
                AttentionShape shape = new AttentionShape(1, heads, t, t, d);
                kernels.fusedAttention().forward(shape, scale, q, k, v, RowMask.NONE, dropout, 7, o, lse);
                kernels.fusedAttention().backward(shape, scale, q, k, v, RowMask.NONE, dropout, 7, o, lse, dO, dq, dk, dv);
            } else {
                // the buffers MultiHeadAttention's materialized path allocates per layer
                FloatTensor probs = FloatTensor.allocate(arena, heads, t, t), dropped = FloatTensor.allocate(arena, heads, t, t);
                FloatTensor dDropped = FloatTensor.allocate(arena, heads, t, t), dProbs = FloatTensor.allocate(arena, heads, t, t);
                FloatTensor dScores = FloatTensor.allocate(arena, heads, t, t);
                MatrixBatch probHeads = scores(probs, t, heads), droppedHeads = scores(dropped, t, heads);
                MatrixBatch dDroppedHeads = scores(dDropped, t, heads), dScoreHeads = scores(dScores, t, heads);
                long n = (long) heads * t * t;
                kernels.matmul().gemmBatched(1, heads, false, true, t, t, d, scale, q, k, 0f, probHeads);
                kernels.softmax().forward(probs, probs, heads * t, t, RowMask.NONE);
                kernels.dropout().forward(probs, dropped, n, dropout, 7);
                kernels.matmul().gemmBatched(1, heads, false, false, t, d, t, 1f, droppedHeads, v, 0f, o);
                kernels.matmul().gemmBatched(1, heads, false, true, t, t, d, 1f, dO, v, 0f, dDroppedHeads);
                kernels.matmul().gemmBatched(1, heads, true, false, t, d, t, 1f, droppedHeads, dO, 1f, dv);
                kernels.dropout().backward(dDropped, dProbs, n, dropout, 7);
                kernels.softmax().backward(probs, dProbs, dScores, heads * t, t);
                kernels.matmul().gemmBatched(1, heads, false, false, t, d, t, scale, dScoreHeads, k, 1f, dq);
                kernels.matmul().gemmBatched(1, heads, true, false, t, d, t, scale, dScoreHeads, q, 1f, dk);
            }
            long peak = otherMalloc()[1];
            System.out.println("extra bytes: " + (peak - base));
        }
    }

    private static MatrixBatch heads(FloatTensor x, int t, int c, int d) {
        return new MatrixBatch(x, 0, c, (long) t * c, d);
    }

    private static MatrixBatch scores(FloatTensor x, int t, int heads) {
        return new MatrixBatch(x, 0, t, (long) heads * t * t, (long) t * t);
    }

    /** {current, peak} bytes of NMT's "Other" category (malloc), where the JDK puts native memory segments. */
    private static long[] otherMalloc() throws Exception {
        String report = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        Matcher m = OTHER.matcher(report);
        if (!m.find()) {
            throw new IllegalStateException("no 'Other' category in Native Memory Tracking's summary (is the JVM running with"
                    + " -XX:NativeMemoryTracking=summary?):\n" + report);
        }
        long current = Long.parseLong(m.group(1)) * 1024;
        long peak = m.group(2) == null ? current : Long.parseLong(m.group(2)) * 1024;
        return new long[] {current, peak};
    }
}
