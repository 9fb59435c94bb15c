package dev.panamaformer.tasks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import dev.panamaformer.model.TransformerConfig;

/**
 * Pairs from a user's file ({@link PairsFile}): sources and targets in units of characters or of
 * whitespace-separated words, chosen per side. The vocabularies hold every unit of the file; the
 * pairs are split reproducibly (by the run's seed) into training, validation (5 %, 1 to 1,000)
 * and test (10 %, 1 to 2,000) sets. The model's size, steps and positions follow from the data.
 */
public final class PairsTask implements Task {
    /** What a token is on one side. */
    public enum Units { CHARS, WORDS }

    private final Path file;
    private final Units sourceUnits;
    private final Units targetUnits;
    private final Tokenizer source;
    private final Tokenizer target;
    private final List<Example> training = new ArrayList<>();
    private final List<Example> validation = new ArrayList<>();
    private final List<Example> test = new ArrayList<>();
    private final int sourceLength;
    private final int targetLength;

    /** Reads {@code file} and splits it with {@code seed}; IOException naming the file (and line) for one that is not pairs. */
    public static PairsTask read(Path file, Units sourceUnits, Units targetUnits, long seed) throws IOException {
        return new PairsTask(file, PairsFile.read(file), sourceUnits, targetUnits, seed);
    }

    PairsTask(Path file, List<PairsFile.Pair> pairs, Units sourceUnits, Units targetUnits, long seed) throws IOException {
        if (pairs.size() < 3) {
            throw new IOException(file + " holds " + pairs.size() + " pairs; training, validation and test need at least 3");
        }
        this.file = file;
        this.sourceUnits = sourceUnits;
        this.targetUnits = targetUnits;
        TreeSet<String> sourceTokens = new TreeSet<>(), targetTokens = new TreeSet<>();
        Tokenizer splitSource = tokenizer(new Vocabulary(List.of()), sourceUnits);
        Tokenizer splitTarget = tokenizer(new Vocabulary(List.of()), targetUnits);
        int longestSource = 0, longestTarget = 0;
        for (PairsFile.Pair p : pairs) {
            List<String> s = splitSource.split(p.source()), t = splitTarget.split(p.target());
            sourceTokens.addAll(s);
            targetTokens.addAll(t);
            longestSource = Math.max(longestSource, s.size());
            longestTarget = Math.max(longestTarget, t.size());
        }
        this.source = tokenizer(new Vocabulary(new ArrayList<>(sourceTokens)), sourceUnits);
        this.target = tokenizer(new Vocabulary(new ArrayList<>(targetTokens)), targetUnits);
        this.sourceLength = longestSource;
        this.targetLength = longestTarget;
        int n = pairs.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int testSize = Math.max(1, Math.min(2_000, n / 10)), validSize = Math.max(1, Math.min(1_000, n / 20));
        for (int i = 0; i < n; i++) {
            PairsFile.Pair p = pairs.get(order[i]);
            Example e = new Example(canonical(p.source(), sourceUnits), canonical(p.target(), targetUnits));
            (i < testSize ? test : i < testSize + validSize ? validation : training).add(e);
        }
    }

    private static Tokenizer tokenizer(Vocabulary v, Units units) {
        return units == Units.CHARS ? Tokenizer.characters(v) : Tokenizer.words(v);
    }

    /** Words separated by single spaces, as the tokenizer writes them back; characters as they are. */
    private static String canonical(String text, Units units) {
        return units == Units.WORDS ? String.join(" ", text.strip().split("\\s+")) : text;
    }

    @Override
    public String name() {
        return "pairs (" + file.getFileName() + ")";
    }

    @Override
    public String directory() {
        return "pairs";
    }

    @Override
    public Settings defaults() {
        // about 30 passes over the training pairs, 1,000 to 20,000 steps; positions for the
        // longest source and the longest target with its end token
        int steps = (int) Math.max(1_000, Math.min(20_000, 30L * training.size() / 64));
        return new Settings(
                new Settings.Model(128, 2, 4, 512, Math.max(sourceLength, targetLength + 1), 0.1f,
                        TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED),
                new Settings.Schedule(64, steps, 1e-3f, 200, 1f, 1),
                new Settings.Checks(250, validation.size(), test.size(), 100f));
    }

    @Override
    public Tokenizer source() {
        return source;
    }

    @Override
    public Tokenizer target() {
        return target;
    }

    @Override
    public int sourceLength() {
        return sourceLength;
    }

    @Override
    public int targetLength() {
        return targetLength;
    }

    @Override
    public boolean fixedLength() {
        return false;
    }

    @Override
    public Example sample(SplittableRandom random) {
        return training.get(random.nextInt(training.size()));
    }

    /** The validation pairs (at most {@code size}): held out of training, the same for every run of one seed. */
    @Override
    public List<Example> validation(int size, SplittableRandom random) {
        return validation.subList(0, Math.min(size, validation.size()));
    }

    /** The test pairs, all of them. */
    @Override
    public TestSet testSet(int size, long seed) {
        return new TestSet(test.size() + " test pairs of " + file.getFileName() + " (held out of training)", test);
    }

    @Override
    public Example example(String text) {
        source.encode(canonical(text, sourceUnits));
        return new Example(canonical(text, sourceUnits), "");
    }

    @Override
    public boolean reportsErrorRate() {
        return true;
    }

    /** The units and vocabularies, so that the checkpoint alone can read and write this task's text. */
    @Override
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source_units", sourceUnits.name().toLowerCase(java.util.Locale.ROOT));
        m.put("target_units", targetUnits.name().toLowerCase(java.util.Locale.ROOT));
        m.put("source_vocabulary", json(source.vocabulary().tokens()));
        m.put("target_vocabulary", json(target.vocabulary().tokens()));
        m.put("data", file.getFileName().toString());
        return m;
    }

    /** A JSON array of strings. */
    static String json(List<String> tokens) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < tokens.size(); i++) {
            sb.append(i == 0 ? "\"" : ",\"");
            for (char c : tokens.get(i).toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }
        return sb.append(']').toString();
    }

    @Override
    public String explain(SplittableRandom random) {
        Example e = sample(random);
        return "pairs from " + file + ": " + (training.size() + validation.size() + test.size()) + " pairs, " + training.size()
                + " for training, " + validation.size() + " for validation, " + test.size() + " for test\n"
                + "units: source " + sourceUnits.name().toLowerCase(java.util.Locale.ROOT) + " (" + (source.vocabulary().size() - 3)
                + " kinds, up to " + sourceLength + "), target " + targetUnits.name().toLowerCase(java.util.Locale.ROOT) + " ("
                + (target.vocabulary().size() - 3) + " kinds, up to " + targetLength + ")\n"
                + "source text:  " + e.source() + "\n"
                + "source ids:   " + java.util.Arrays.toString(source.encode(e.source())) + "\n"
                + "target text:  " + e.target() + "\n"
                + "decoder out:  " + java.util.Arrays.toString(target.encode(e.target())).replace("]", ", 2 (</s>)]");
    }
}
