package dev.panamaformer.tasks;

import dev.panamaformer.model.Transformer;
import dev.panamaformer.model.TransformerConfig;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * Refuses, in one line, a run that cannot fit in this machine's memory, before it allocates:
 * the model's parameters live outside the JVM's heap (four floats each in training: value,
 * gradient, two Adam moments), so do its activations (linear in the batch), while examples and
 * predictions live on the heap. Without this a run of {@code --hidden 8192 --ff 65536 --layers
 * 64} grew to 14 GB before the system stopped it.
 */
final class MemoryEstimate {
    /** Bytes per parameter value while training: value, gradient, Adam's two moments. */
    static final long TRAINING_BYTES_PER_PARAMETER = 4L * Float.BYTES;

    private MemoryEstimate() {
    }

    /** Physical memory (a container's limit where there is one). */
    static long physical() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    }

    /** What is left for memory outside the heap once the heap has grown to its maximum. */
    static long outsideHeap() {
        return Math.max(0, physical() - Runtime.getRuntime().maxMemory());
    }

    /** Before the model is built: its parameters, gradients and Adam state must fit outside the heap. */
    static void checkParameters(TransformerConfig c) {
        long count = c.parameterCount();
        long need = count > Long.MAX_VALUE / TRAINING_BYTES_PER_PARAMETER ? Long.MAX_VALUE : count * TRAINING_BYTES_PER_PARAMETER;
        if (need > outsideHeap()) {
            throw new UsageException(String.format(Locale.ROOT, "a model of --hidden %d --ff %d --layers %d has %s parameters: %s for them,"
                    + " their gradients and Adam's state, more than the %s this machine leaves beside the JVM's heap (%s of memory,"
                    + " heap up to %s); lower --hidden, --ff or --layers", c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                    count == Long.MAX_VALUE ? "more than 2^63" : String.format(Locale.ROOT, "%,d", count), bytes(need),
                    bytes(outsideHeap()), bytes(physical()), bytes(Runtime.getRuntime().maxMemory())));
        }
    }

    /**
     * After the model is built: its activations and their gradients for one example, times the
     * batch (every buffer grows linearly in it), and the decoding buffers the model keeps for
     * evaluation for one example, times {@code evalRows} (the validation batch), beside the
     * parameters, must fit outside the heap. Returns the model; closes it when refusing.
     */
    static Transformer checkBatch(Transformer model, Task task, int batch, int evalRows) {
        try {
            checkBatch(model, task, batch, evalRows, model.config().parameterCount() * TRAINING_BYTES_PER_PARAMETER);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static void checkBatch(Transformer model, Task task, int batch, int evalRows, long trainingBytes) {
        Example example = task.atOffsetZero(task.sample(new java.util.SplittableRandom(0)));
        model.forward(Batches.training(task, List.of(example)), false, 0);
        long perExample = model.workspaceBytes();
        long need = perExample > Long.MAX_VALUE / batch ? Long.MAX_VALUE : perExample * batch;
        Evaluation.predict(model, task, List.of(example), 1);
        long decodingPerExample = model.decodingBufferBytes();
        long decoding = decodingPerExample > Long.MAX_VALUE / evalRows ? Long.MAX_VALUE : decodingPerExample * evalRows;
        need = need > Long.MAX_VALUE - decoding ? Long.MAX_VALUE : need + decoding;
        long room = outsideHeap() - trainingBytes;
        if (need > room) {
            throw new UsageException(String.format(Locale.ROOT, "--batch %d needs about %s of activations and their gradients"
                    + " (%s per example) and decoding buffers for validation batches of %d (%s per example) beside the model's %s,"
                    + " more than the %s this machine leaves beside the JVM's heap; lower --batch (or --eval-size)",
                    batch, bytes(need), bytes(perExample), evalRows, bytes(decodingPerExample), bytes(trainingBytes),
                    bytes(Math.max(0, room))));
        }
    }

    /**
     * The test set and its predictions are kept on the heap, and the task's additional test sets
     * (as large) beside them: about three strings of the longest sequence and three small objects
     * per example. More than half the heap is refused.
     */
    static void checkTestSet(Task task, int size) {
        long longest = Math.max(task.sourceLength(), Batches.decoderLength(task));
        long perExample = 3 * (48 + 2 * longest) + 96;
        long sets = 1 + task.additionalTests(1, 0).size(); // the test command holds the extra sets at once, each of --test-size
        long need = perExample * size * sets, heap = Runtime.getRuntime().maxMemory();
        if (need > heap / 2) {
            throw new UsageException(String.format(Locale.ROOT, "--test-size %d keeps about %s of examples and predictions on the heap,"
                    + " more than half of its %s; lower --test-size (or give the JVM more heap: JAVA_TOOL_OPTIONS=-Xmx...)",
                    size, bytes(need), bytes(heap)));
        }
    }

    static String bytes(long n) {
        if (n == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        return n >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
    }
}
