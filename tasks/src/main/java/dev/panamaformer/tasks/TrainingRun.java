package dev.panamaformer.tasks;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.AtomicFile;
import dev.panamaformer.model.Batch;
import dev.panamaformer.model.Checkpoint;
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
 * fresh validation set every {@code evalEvery} steps, and a checkpoint, a curve and a metrics
 * file written (atomically) at each evaluation, so that an interrupted run leaves the last good
 * ones. Stops early after {@code patience} perfect evaluations in a row, unless told not to.
 */
final class TrainingRun {
    static final String CHECKPOINT = "model.safetensors";

    /** What a run achieved. */
    record Outcome(int steps, double seconds, int firstOnTargetStep, double lastExactMatch, Path checkpoint) {
    }

    private TrainingRun() {
    }

    static Outcome train(Task task, Settings s, Path dir, int patience, Kernels kernels, PrintStream out) throws IOException {
        Tokenizer src = task.source(), tgt = task.target();
        TransformerConfig config = s.model(src.vocabulary().size(), tgt.vocabulary().size());
        MemoryEstimate.checkParameters(config);
        Files.createDirectories(dir);
        SplittableRandom data = new SplittableRandom(s.seed());
        List<Example> validation = new ArrayList<>();
        SplittableRandom heldRandom = new SplittableRandom(s.seed() ^ 0x5DEECE66DL);
        for (int i = 0; i < s.evalSize(); i++) {
            validation.add(task.sample(heldRandom));
        }
        Trainer.Options options = new Trainer.Options(LearningRate.warmupCosine(s.lr(), s.warmup(), s.steps(), 0.1f),
                0.9f, 0.98f, 1e-9f, 0f, false, s.clip(), s.seed());
        out.printf("training %s: d=%d, %d layers, %d heads, d_ff=%d, batch %d, up to %d steps, lr %.1e (warm-up %d, cosine), %s%n",
                task.name(), s.hidden(), s.layers(), s.heads(), s.ff(), s.batch(), s.steps(), s.lr(), s.warmup(), kernels.description());
        List<Charts.Point> curve = new ArrayList<>();
        StringBuilder csv = new StringBuilder("step,loss,token_accuracy,exact_match,learning_rate,seconds\n");
        Progress progress = new Progress(out, s.steps());
        long start = System.nanoTime();
        int firstOnTarget = -1, onTargetInRow = 0, step = 0;
        boolean pictureFailed = false;
        double lastExact = Double.NaN, lossAvg = Double.NaN, accAvg = Double.NaN;
        try (Transformer model = MemoryEstimate.checkBatch(new Transformer(config, s.seed(), kernels), task, s.batch());
             Trainer trainer = new Trainer(model, options)) {
            List<Example> examples = new ArrayList<>(s.batch());
            while (step < s.steps()) {
                examples.clear();
                for (int i = 0; i < s.batch(); i++) {
                    examples.add(task.sample(data));
                }
                Batch batch = Batches.of(task, examples);
                double loss = trainer.step(batch);
                step = trainer.steps();
                double acc = tokenAccuracy(model.logProbs(), batch, tgt.vocabulary().size());
                lossAvg = Double.isNaN(lossAvg) ? loss : 0.95 * lossAvg + 0.05 * loss;
                accAvg = Double.isNaN(accAvg) ? acc : 0.95 * accAvg + 0.05 * acc;
                boolean evaluate = step % s.evalEvery() == 0 || step == s.steps();
                double exact = Double.NaN;
                if (evaluate) {
                    exact = Evaluation.evaluate(model, task, validation, 500).exactMatch();
                    lastExact = exact;
                    onTargetInRow = exact >= s.target() ? onTargetInRow + 1 : 0;
                    if (exact >= s.target() && firstOnTarget < 0) {
                        firstOnTarget = step;
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                if (step % 10 == 0 || evaluate || step == 1) {
                    curve.add(new Charts.Point(step, lossAvg, accAvg, exact));
                    csv.append(String.format("%d,%.6f,%.4f,%s,%.3e,%.2f%n", step, lossAvg, accAvg,
                            Double.isNaN(exact) ? "" : String.format("%.2f", exact), trainer.lastLearningRate(), seconds));
                }
                progress.update(step, lossAvg, accAvg, lastExact, seconds, evaluate);
                if (evaluate) {
                    if (!save(model, task, s, dir, curve, csv) && !pictureFailed) {
                        pictureFailed = true;
                        out.println("note: could not draw " + dir.resolve("curve.png") + "; training goes on");
                    }
                    if (patience > 0 && onTargetInRow >= patience) {
                        progress.finish();
                        out.printf("validation exact match >= %s%% on %d fresh examples at %d evaluations in a row: stopping at step %d%n",
                                Evaluation.percent(s.target()), validation.size(), patience, step);
                        break;
                    }
                }
            }
            progress.finish();
            save(model, task, s, dir, curve, csv);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("trained %d steps in %.1f s (%.1f ms/step); validation exact match first >= %s%% at step %s; checkpoint %s%n",
                step, seconds, 1000 * seconds / Math.max(1, step), Evaluation.percent(s.target()),
                firstOnTarget < 0 ? "never" : Integer.toString(firstOnTarget), dir.resolve(CHECKPOINT));
        return new Outcome(step, seconds, firstOnTarget, lastExact, dir.resolve(CHECKPOINT));
    }

    /** Writes checkpoint, metrics and curve; returns false when the picture could not be drawn. */
    private static boolean save(Transformer model, Task task, Settings s, Path dir, List<Charts.Point> curve, StringBuilder csv)
            throws IOException {
        Checkpoint.save(model, dir.resolve(CHECKPOINT), Map.of("task", task.directory(), "seed", Long.toString(s.seed())));
        AtomicFile.write(dir.resolve("metrics.csv"), out -> out.write(csv.toString().getBytes(StandardCharsets.UTF_8)));
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
