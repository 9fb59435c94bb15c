package dev.panamaformer.tasks;

import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.Checkpoint;
import dev.panamaformer.model.CheckpointException;
import dev.panamaformer.model.PositionScaling;
import dev.panamaformer.model.RunOptions;
import dev.panamaformer.model.Transformer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The test command: greedy decoding of fresh or all examples with a trained checkpoint. */
final class Testing {
    /** The test stream's seed differs from training's and validation's. */
    static final long TEST_SEED_OFFSET = 0x7E57_0000L;
    /** An additional test set of at most this many examples is printed example by example; a larger one as a summary line. */
    private static final int HANDFUL = 10;

    private Testing() {
    }

    /**
     * How the test command runs a trained model: its kernels, and how decoding goes past the
     * trained positions ({@link PositionScaling.Method#NONE}: it does not).
     */
    record Options(Kernels kernels, PositionScaling.Method interpolate) {
    }

    /** Loads the run's checkpoint, refusing one made for another task or vocabulary. */
    static Transformer load(Task task, Path dir, Kernels kernels) throws IOException {
        return load(task, dir, new Options(kernels, PositionScaling.Method.NONE));
    }

    /**
     * {@link #load(Task, Path, Kernels)} with decoding scaled past the positions the task trains
     * on (its training sources, and its training targets with the start token) as
     * {@code options.interpolate()} says.
     */
    static Transformer load(Task task, Path dir, Options options) throws IOException {
        Path path = dir.resolve(TrainingRun.CHECKPOINT);
        if (!Files.exists(path) && !Files.notExists(path)) {
            // neither: the directory cannot be searched, which is not the same as no checkpoint
            throw new CheckpointException("reading " + path + " failed: permission denied (on " + dir + " or the file)");
        }
        if (!Files.exists(path)) {
            throw new CheckpointException("no checkpoint at " + path + "; train first: ./panamaformer "
                    + task.directory().replaceAll("/.*", "") + " train");
        }
        Map<String, String> meta = Checkpoint.metadata(path);
        if (!task.directory().equals(meta.get("task"))) {
            throw new CheckpointException(path + " holds a model of task '" + meta.get("task") + "', not '" + task.directory() + "'");
        }
        RunOptions run = RunOptions.defaults().withKernels(options.kernels());
        if (options.interpolate() != PositionScaling.Method.NONE) {
            int trained = Math.max(task.trainingSourceLength(), task.trainingTargetLength() + 1);
            int longest = Math.max(task.sourceLength(), Batches.decoderLength(task));
            run = run.withPositionScaling(new PositionScaling(options.interpolate(), trained, longest));
        }
        Transformer model;
        try {
            model = Checkpoint.load(path, run);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--interpolate " + options.interpolate().name().toLowerCase(java.util.Locale.ROOT)
                    + ": " + e.getMessage());
        }
        if (model.config().srcVocabSize() != task.source().vocabulary().size()
                || model.config().tgtVocabSize() != task.target().vocabulary().size()
                || model.config().maxPositions() < Math.max(task.sourceLength(), Batches.decoderLength(task))) {
            model.close();
            throw new CheckpointException(path + " does not fit " + task.name() + "'s vocabularies or lengths");
        }
        return model;
    }

    static Evaluation.Result test(Task task, Settings s, Path dir, int show, Kernels kernels, PrintStream out) throws IOException {
        return test(task, s, dir, show, new Options(kernels, PositionScaling.Method.NONE), out);
    }

    static Evaluation.Result test(Task task, Settings s, Path dir, int show, Options options, PrintStream out) throws IOException {
        MemoryEstimate.checkTestSet(task, s.testSize());
        try (Transformer model = load(task, dir, options)) {
            if (options.interpolate() != PositionScaling.Method.NONE) {
                PositionScaling p = model.options().positionScaling();
                out.printf("positions past the trained %d: %s scaling, up to %d%n", p.trainedLength(),
                        p.method().name().toLowerCase(java.util.Locale.ROOT), p.maxLength());
            }
            Task.TestSet set = task.testSet(s.testSize(), s.seed() + TEST_SEED_OFFSET);
            out.printf("testing %s on %s, greedy decoding%n", task.name(), set.description());
            long start = System.nanoTime();
            Evaluation.Result r = Evaluation.evaluate(model, task, set.examples(), 1000);
            double seconds = (System.nanoTime() - start) / 1e9;
            printRows(task, r.rows().subList(0, Math.min(show, r.rows().size())), out);
            List<Evaluation.Row> wrong = new ArrayList<>();
            for (Evaluation.Row row : r.rows()) {
                if (!row.correct() && wrong.size() < show) {
                    wrong.add(row);
                }
            }
            if (!wrong.isEmpty()) {
                out.println("some mistakes:");
                printRows(task, wrong, out);
            }
            for (Task.TestSet extra : task.additionalTests(s.testSize(), s.seed() + TEST_SEED_OFFSET)) {
                Evaluation.Result x = Evaluation.evaluate(model, task, extra.examples(), 1000);
                if (extra.examples().size() <= HANDFUL) {
                    out.println(extra.description() + ":");
                    printRows(task, x.rows(), out);
                } else {
                    Evaluation.Row sample = x.rows().get(0);
                    out.printf("%s: exact match %s%% (%d/%d)%s; e.g. %s -> %s (truth %s)%n", extra.description(),
                            Evaluation.percent(x.exactMatch()), x.correct(), x.total(),
                            task.digitTargets() ? ", per digit " + Evaluation.percent(x.perSymbol()) + "%" : "",
                            sample.example().source(), task.readable(sample.prediction()), task.readable(sample.example().target()));
                }
            }
            out.printf("decoded %d examples in %.1f s%n", r.total(), seconds);
            if (task.reportsErrorRate()) {
                long edits = 0, units = 0;
                for (Evaluation.Row row : r.rows()) {
                    int[] truth = task.target().encode(row.example().target()), guess = task.target().encode(row.prediction());
                    edits += EditDistance.of(guess, truth);
                    units += truth.length;
                }
                out.printf("error rate: %.2f%% (%d edits over %d target units)%n", units == 0 ? 0 : 100.0 * edits / units, edits, units);
            }
            if (task.digitTargets()) {
                out.printf("per-digit accuracy: %s%% (%d/%d digits)%n", Evaluation.percent(r.perSymbol()), r.symbolsCorrect(),
                        r.symbolsTotal());
            }
            out.println(r.exactMatchLine());
            return r;
        }
    }

    private static void printRows(Task task, List<Evaluation.Row> rows, PrintStream out) {
        for (Evaluation.Row row : rows) {
            out.printf("  input %-26s prediction %-34s truth %-34s %s%n", row.example().source(), task.readable(row.prediction()),
                    task.readable(row.example().target()), row.correct() ? "correct" : "WRONG");
        }
    }
}
