package dev.panamaformer.tasks;

import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.Decoding;
import dev.panamaformer.model.DecodingSession;
import dev.panamaformer.model.PositionIds;
import dev.panamaformer.model.Transformer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The predict command: a trained model's answer to inputs a person writes, given on the command
 * line or one per line on standard input, one output line each. Decoding is greedy unless
 * {@code --beam N} (beam search) or {@code --temperature}, {@code --top-k}, {@code --top-p}
 * (sampling, seeded by {@code --seed}) say otherwise; {@code --show-scores} adds the model's
 * log-probability of each output (its tokens and, where outputs vary in length, its end token).
 */
final class Prediction {
    /** Inputs decoded together. */
    private static final int BATCH = 256;

    /** How to decode. */
    record Choice(int beam, Decoding.Sampling sampling, boolean showScores) {
        static Choice of(Flags flags, long seed) {
            boolean sampling = flags.has("temperature") || flags.has("top-k") || flags.has("top-p");
            if (flags.has("beam") && sampling) {
                throw new UsageException("--beam is a search, --temperature/--top-k/--top-p sample: choose one");
            }
            Decoding.Sampling s = new Decoding.Sampling(sampling ? flags.real("temperature", 1f, 0f, 100f) : 0f,
                    flags.integer("top-k", 0, 0, Integer.MAX_VALUE), flags.real("top-p", 1f, Float.MIN_VALUE, 1f), seed);
            return new Choice(flags.integer("beam", 1, 1, 64), s, flags.has("show-scores"));
        }
    }

    private Prediction() {
    }

    /**
     * Predicts {@code inputs}, or the lines of {@code in} where there are none; prints one line
     * per input to {@code out}. A line that is not an input of the task (a wrong form, units
     * outside the vocabulary, too long for the model) is named on {@code err} with its number and
     * skipped; returns how many were.
     */
    static int run(Task task, Path dir, Kernels kernels, Choice choice, List<String> inputs, BufferedReader in, PrintStream out,
                   PrintStream err) throws IOException {
        try (Transformer model = Testing.load(task, dir, kernels)) {
            if (!inputs.isEmpty()) {
                return predict(task, model, choice, inputs, 0, out, err);
            }
            int failed = 0, lineNumber = 0;
            List<String> batch = new ArrayList<>();
            for (String line; (line = in.readLine()) != null; ) {
                batch.add(line);
                if (batch.size() == BATCH) {
                    failed += predict(task, model, choice, batch, lineNumber, out, err);
                    lineNumber += batch.size();
                    batch.clear();
                }
            }
            return failed + predict(task, model, choice, batch, lineNumber, out, err);
        }
    }

    /** {@code lines} numbered from {@code first + 1}; returns how many were refused. */
    private static int predict(Task task, Transformer model, Choice choice, List<String> lines, int first, PrintStream out,
                               PrintStream err) {
        List<Example> examples = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        int failed = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                Example e = task.example(line);
                Batches.sourceIds(task, e.source()); // the units and the length, checked now
                examples.add(e);
                kept.add(i);
            } catch (UsageException | IllegalArgumentException e) {
                err.println("error: input " + (first + i + 1) + " " + UserText.quoted(line) + ": " + e.getMessage());
                failed++;
            }
        }
        if (examples.isEmpty()) {
            return failed;
        }
        int[][] sources = new int[examples.size()][];
        for (int i = 0; i < sources.length; i++) {
            sources[i] = Batches.sourceIds(task, examples.get(i).source());
        }
        PositionIds positions = Batches.positions(task, examples);
        int maxLength = task.decodeLength(examples), eos = task.fixedLength() ? -1 : Vocabulary.EOS;
        int[][] outputs = choice.beam() > 1
                ? Decoding.beamSearch(model, sources, positions, choice.beam(), Vocabulary.BOS, eos, maxLength, 1f)
                : Decoding.sample(model, sources, positions, choice.sampling(), Vocabulary.BOS, eos, maxLength,
                        (source, position, token) -> { });
        double[] scores = choice.showScores() ? scores(model, sources, positions, outputs, eos, maxLength) : null;
        for (int i = 0; i < outputs.length; i++) {
            String text = task.readable(task.target().decode(outputs[i]));
            out.println(scores == null ? text : text + "\t" + String.format(java.util.Locale.ROOT, "%.4f", scores[i]));
        }
        return failed;
    }

    /**
     * The model's log-probability of each output, teacher-forced: the sum over its tokens, and
     * its end token where {@code eos >= 0} and the output ended before {@code maxLength}, the
     * most tokens decoding allowed it.
     */
    static double[] scores(Transformer model, int[][] sources, PositionIds positions, int[][] outputs, int eos, int maxLength) {
        int longest = 0;
        for (int[] o : outputs) {
            longest = Math.max(longest, o.length);
        }
        int steps = Math.min(longest + (eos >= 0 ? 1 : 0), maxLength);
        double[] scores = new double[outputs.length];
        if (steps == 0) {
            return scores;
        }
        try (DecodingSession session = model.startDecoding(sources, positions, 1, steps)) {
            int[] tokens = new int[outputs.length];
            java.util.Arrays.fill(tokens, Vocabulary.BOS);
            for (int t = 0; t < steps; t++) {
                session.step(tokens);
                for (int r = 0; r < outputs.length; r++) {
                    int[] o = outputs[r];
                    int next = t < o.length ? o[t] : t == o.length && eos >= 0 && o.length < maxLength ? eos : -1;
                    if (next >= 0) {
                        scores[r] += session.logProb(r, next);
                    }
                    tokens[r] = t < o.length ? o[t] : Vocabulary.PAD;
                }
            }
        }
        return scores;
    }
}
