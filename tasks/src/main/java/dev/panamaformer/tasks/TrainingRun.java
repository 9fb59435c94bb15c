package dev.panamaformer.tasks;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.AtomicFile;
import dev.panamaformer.model.Batch;
import dev.panamaformer.model.Checkpoint;
import dev.panamaformer.model.CheckpointException;
import dev.panamaformer.model.LearningRate;
import dev.panamaformer.model.Trainer;
import dev.panamaformer.model.Transformer;
import dev.panamaformer.model.TransformerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a task's model: fresh examples every step, a progress line, greedy exact match on a
 * fresh validation set every {@code evalEvery} steps, and a checkpoint, the optimizer's state, a
 * curve and a metrics file written (atomically) at each evaluation, so that an interrupted run
 * leaves the last good ones, and {@code --resume} continues it from there exactly as if it had
 * never stopped (the same weights, bit for bit: the data stream is replayed to the step, the
 * optimizer's moments and the step's learning rate and dropout streams restored). Stops early
 * after {@code patience} perfect evaluations in a row, unless told not to.
 */
final class TrainingRun {
    static final String CHECKPOINT = "model.safetensors";
    /** Adam's moments and the step, written beside the checkpoint at each evaluation (see {@link Trainer#saveState}). */
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String METRICS = "metrics.csv";
    /** Validation examples decoded at once. */
    static final int EVAL_BATCH = 500;
    private static final String CSV_HEADER = "step,loss,token_accuracy,exact_match,learning_rate,seconds\n";

    /** What a run achieved. */
    record Outcome(int steps, double seconds, int firstOnTargetStep, double lastExactMatch, Path checkpoint) {
    }

    private TrainingRun() {
    }

    static Outcome train(Task task, Settings s, Path dir, int patience, Kernels kernels, PrintStream out) throws IOException {
        return train(task, s, dir, patience, false, Integer.MAX_VALUE, kernels, out);
    }

    /**
     * With {@code resume}, continues the run whose checkpoint, optimizer state and metrics are in
     * {@code dir}. {@code stopAfter} ends the run after the evaluation (and save) of that step, as
     * an interruption would: for tests.
     */
    static Outcome train(Task task, Settings s, Path dir, int patience, boolean resume, int stopAfter, Kernels kernels,
                         PrintStream out) throws IOException {
        Tokenizer src = task.source(), tgt = task.target();
        TransformerConfig config = s.model(src.vocabulary().size(), tgt.vocabulary().size());
        MemoryEstimate.checkParameters(config);
        Files.createDirectories(dir);
        SplittableRandom data = new SplittableRandom(s.seed());
        List<Example> validation = task.validation(s.evalSize(), new SplittableRandom(s.seed() ^ 0x5DEECE66DL));
        Trainer.Options options = new Trainer.Options(LearningRate.warmupCosine(s.lr(), s.warmup(), s.steps(), 0.1f),
                0.9f, 0.98f, 1e-9f, 0f, false, s.clip(), s.seed());
        String positions = config.positions().name().toLowerCase(java.util.Locale.ROOT)
                + ((config.positions() == TransformerConfig.Positions.ROPE || config.positions() == TransformerConfig.Positions.ROPE_CROSS)
                        && config.ropeScale() != 1f ? " (RoPE scale " + config.ropeScale() + ")" : "")
                + (config.attentionWindow() > 0 ? ", attention window " + config.attentionWindow() : "");
        out.printf("training %s: d=%d, %d layers, %d heads, d_ff=%d, positions %s, batch %d, up to %d steps, lr %.1e (warm-up %d, cosine), %s%n",
                task.name(), s.hidden(), s.layers(), s.heads(), s.ff(), positions, s.batch(), s.steps(), s.lr(), s.warmup(),
                kernels.description());
        List<Charts.Point> curve = new ArrayList<>();
        StringBuilder csv = new StringBuilder(CSV_HEADER);
        Progress progress = new Progress(out, s.steps());
        int firstOnTarget = -1, onTargetInRow = 0, step = 0, savedAt = -1;
        boolean pictureFailed = false;
        double lastExact = Double.NaN, lossAvg = Double.NaN, accAvg = Double.NaN, secondsBefore = 0, seconds = 0;
        try (Transformer model = MemoryEstimate.checkBatch(new Transformer(config, s.seed(), kernels), task, s.batch(),
                Math.min(EVAL_BATCH, s.evalSize()));
             Trainer trainer = new Trainer(model, options)) {
            if (resume) {
                step = restore(model, trainer, dir);
                for (long i = (long) step * s.batch(); i > 0; i--) {
                    task.sample(data); // the examples the first part of the run drew, drawn again and dropped
                }
                Resumed r = restoreMetrics(dir.resolve(METRICS), step, s.target(), csv, curve);
                lossAvg = r.lossAvg();
                accAvg = r.accAvg();
                secondsBefore = r.seconds();
                lastExact = r.lastExact();
                onTargetInRow = r.onTargetInRow();
                firstOnTarget = r.firstOnTarget();
                out.printf("resuming at step %d of %d from %s%n", step, s.steps(), dir.resolve(CHECKPOINT));
            }
            long start = System.nanoTime() - (long) (secondsBefore * 1e9);
            List<Example> examples = new ArrayList<>(s.batch());
            while (step < s.steps()) {
                examples.clear();
                for (int i = 0; i < s.batch(); i++) {
                    examples.add(task.sample(data));
                }
                Batch batch = Batches.training(task, examples);
                double loss = trainer.step(batch);
                step = trainer.steps();
                double acc = tokenAccuracy(trainer.logProbs(), batch, tgt.vocabulary().size());
                lossAvg = Double.isNaN(lossAvg) ? loss : 0.95 * lossAvg + 0.05 * loss;
                accAvg = Double.isNaN(accAvg) ? acc : 0.95 * accAvg + 0.05 * acc;
                boolean evaluate = step % s.evalEvery() == 0 || step == s.steps();
                double exact = Double.NaN;
                if (evaluate) {
                    exact = Evaluation.evaluate(model, task, validation, EVAL_BATCH).exactMatch();
                    lastExact = exact;
                    onTargetInRow = exact >= s.target() ? onTargetInRow + 1 : 0;
                    if (exact >= s.target() && firstOnTarget < 0) {
                        firstOnTarget = step;
                    }
                }
                seconds = (System.nanoTime() - start) / 1e9;
                if (step % 10 == 0 || evaluate || step == 1) {
                    curve.add(new Charts.Point(step, lossAvg, accAvg, exact));
                    csv.append(String.format("%d,%.6f,%.4f,%s,%.3e,%.2f%n", step, lossAvg, accAvg,
                            Double.isNaN(exact) ? "" : String.format("%.2f", exact), trainer.lastLearningRate(), seconds));
                }
                progress.update(step, lossAvg, accAvg, lastExact, seconds, evaluate);
                if (evaluate) {
                    trainer.saveState(dir.resolve(OPTIMIZER));
                    savedAt = step;
                    if (!save(model, task, s, dir, step, curve, csv) && !pictureFailed) {
                        pictureFailed = true;
                        out.println("note: could not draw " + dir.resolve("curve.png") + "; training goes on");
                    }
                    if (patience > 0 && onTargetInRow >= patience) {
                        progress.finish();
                        out.printf("validation exact match >= %s%% on %d fresh examples at %d evaluations in a row: stopping at step %d%n",
                                Evaluation.percent(s.target()), validation.size(), patience, step);
                        break;
                    }
                    if (step >= stopAfter) {
                        break;
                    }
                }
            }
            progress.finish();
            if (savedAt != step) { // the last step's evaluation saved it already, at every natural end
                trainer.saveState(dir.resolve(OPTIMIZER));
                save(model, task, s, dir, step, curve, csv);
            }
            seconds = (System.nanoTime() - start) / 1e9;
        }
        out.printf("trained %d steps in %.1f s (%.1f ms/step); validation exact match first >= %s%% at step %s; checkpoint %s%n",
                step, seconds, 1000 * seconds / Math.max(1, step), Evaluation.percent(s.target()),
                firstOnTarget < 0 ? "never" : Integer.toString(firstOnTarget), dir.resolve(CHECKPOINT));
        return new Outcome(step, seconds, firstOnTarget, lastExact, dir.resolve(CHECKPOINT));
    }

    /**
     * Loads the checkpoint and optimizer state of an earlier run of the same settings into
     * {@code model} and {@code trainer}; returns the step they hold. Files missing, of another
     * model, or of different steps (a run stopped between writing the two) end in one clear error.
     */
    private static int restore(Transformer model, Trainer trainer, Path dir) throws IOException {
        Path checkpoint = dir.resolve(CHECKPOINT), optimizer = dir.resolve(OPTIMIZER), metrics = dir.resolve(METRICS);
        for (Path p : List.of(checkpoint, optimizer, metrics)) {
            if (!Files.isRegularFile(p)) {
                throw new UsageException("--resume needs the " + p.getFileName() + " a run writes at each evaluation; "
                        + dir + " has none" + (p == optimizer ? " (runs before this version did not write it)" : ""));
            }
        }
        Checkpoint.loadInto(model, checkpoint);
        trainer.loadState(optimizer);
        String saved = Checkpoint.metadata(checkpoint).get("step");
        if (saved == null || !saved.equals(Integer.toString(trainer.steps()))) {
            throw new CheckpointException(checkpoint + " holds step " + saved + " but " + optimizer + " step " + trainer.steps()
                    + ": they are not of the same moment of the run; train again with --overwrite");
        }
        return trainer.steps();
    }

    /** What the metrics file of an interrupted run says about its progress up to the step resumed from. */
    private record Resumed(double lossAvg, double accAvg, double seconds, double lastExact, int onTargetInRow,
                           int firstOnTarget) {
    }

    /**
     * Appends the rows of {@code metrics} up to {@code step} to {@code csv} and {@code curve} (rows
     * of later steps are of a part of the run the checkpoint does not hold) and returns the running
     * averages, time and evaluation streak they end with.
     */
    private static Resumed restoreMetrics(Path metrics, int step, double target, StringBuilder csv, List<Charts.Point> curve)
            throws IOException {
        double lossAvg = Double.NaN, accAvg = Double.NaN, seconds = 0, lastExact = Double.NaN;
        int onTargetInRow = 0, firstOnTarget = -1;
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            String[] f = line.split(",", -1);
            if (f.length != 6 || !f[0].matches("[0-9]+") || Integer.parseInt(f[0]) > step) {
                continue; // the header, or rows of steps the checkpoint does not hold
            }
            csv.append(line).append('\n');
            double exact = f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]);
            lossAvg = Double.parseDouble(f[1]);
            accAvg = Double.parseDouble(f[2]);
            seconds = Double.parseDouble(f[5]);
            curve.add(new Charts.Point(Integer.parseInt(f[0]), lossAvg, accAvg, exact));
            if (!Double.isNaN(exact)) {
                lastExact = exact;
                onTargetInRow = exact >= target ? onTargetInRow + 1 : 0;
                if (exact >= target && firstOnTarget < 0) {
                    firstOnTarget = Integer.parseInt(f[0]);
                }
            }
        }
        return new Resumed(lossAvg, accAvg, seconds, lastExact, onTargetInRow, firstOnTarget);
    }

    /** Writes checkpoint, metrics and curve; returns false when the picture could not be drawn. */
    private static boolean save(Transformer model, Task task, Settings s, Path dir, int step, List<Charts.Point> curve,
                                StringBuilder csv) throws IOException {
        Map<String, String> metadata = new java.util.LinkedHashMap<>(task.metadata());
        metadata.putAll(Map.of("task", task.directory(), "seed", Long.toString(s.seed()), "step", Integer.toString(step)));
        Checkpoint.save(model, dir.resolve(CHECKPOINT), metadata);
        AtomicFile.write(dir.resolve(METRICS), out -> out.write(csv.toString().getBytes(StandardCharsets.UTF_8)));
        try {
            Charts.curve(dir.resolve("curve.png"), task.name() + ": training", curve);
            return true;
        } catch (IOException | RuntimeException e) {
            // a picture is not worth a failed run (e.g. a machine without fonts)
            return false;
        }
    }

    /** Share of non-padding target tokens whose teacher-forced argmax is right, in percent. */
    static double tokenAccuracy(FloatTensor logProbs, Batch batch, int vocab) {
        int right = 0, total = 0;
        int[] out = batch.tgtOut();
        float[] lp = logProbs.toArray();
        for (int r = 0; r < out.length; r++) {
            if (out[r] == Vocabulary.PAD) {
                continue;
            }
            int best = 0;
            for (int j = 1; j < vocab; j++) {
                if (lp[r * vocab + j] > lp[r * vocab + best]) {
                    best = j;
                }
            }
            right += best == out[r] ? 1 : 0;
            total++;
        }
        return total == 0 ? 0 : 100.0 * right / total;
    }
}
