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

    /**
     * The task of a trained model without its data: the units and vocabularies from the
     * checkpoint's metadata, the lengths from its positions. It reads and writes text (predict);
     * it has no pairs to train or test on.
     */
    public static PairsTask fromCheckpoint(Path checkpoint) throws IOException {
        if (!java.nio.file.Files.exists(checkpoint)) {
            throw new dev.panamaformer.model.CheckpointException("no checkpoint at " + checkpoint
                    + "; train first: ./panamaformer pairs --data FILE");
        }
        java.util.Map<String, String> meta = dev.panamaformer.model.Checkpoint.metadata(checkpoint);
        if (!"pairs".equals(meta.get("task"))) {
            throw new dev.panamaformer.model.CheckpointException(checkpoint + " holds a model of task '" + meta.get("task")
                    + "', not 'pairs'");
        }
        try {
            Units su = Units.valueOf(meta.get("source_units").toUpperCase(java.util.Locale.ROOT));
            Units tu = Units.valueOf(meta.get("target_units").toUpperCase(java.util.Locale.ROOT));
            List<String> sv = parseJson(meta.get("source_vocabulary")), tv = parseJson(meta.get("target_vocabulary"));
            int positions = dev.panamaformer.model.TransformerConfig.fromJson(meta.get("config")).maxPositions();
            return new PairsTask(Path.of(meta.getOrDefault("data", "pairs")), su, tu, sv.subList(3, sv.size()),
                    tv.subList(3, tv.size()), positions);
        } catch (RuntimeException e) {
            throw new dev.panamaformer.model.CheckpointException(checkpoint + " lacks the units or vocabularies of a pairs model ("
                    + e.getMessage() + "); give --data FILE, the file it was trained on");
        }
    }

    private PairsTask(Path file, Units sourceUnits, Units targetUnits, List<String> sourceTokens, List<String> targetTokens,
                      int positions) {
        this.file = file;
        this.sourceUnits = sourceUnits;
        this.targetUnits = targetUnits;
        this.source = tokenizer(new Vocabulary(sourceTokens), sourceUnits);
        this.target = tokenizer(new Vocabulary(targetTokens), targetUnits);
        this.sourceLength = positions;
        this.targetLength = positions - 1;
    }

    /** Reads {@code file} and splits it with {@code seed}; IOException naming the file (and line) for one that is not pairs. */
    public static PairsTask read(Path file, Units sourceUnits, Units targetUnits, long seed) throws IOException {
        return read(file, null, null, sourceUnits, targetUnits, seed);
    }

    /**
     * {@link #read(Path, Units, Units, long)} with the validation and test pairs from files of
     * their own where {@code validFile}, {@code testFile} are not null (then none of {@code file}
     * is held out for them).
     */
    public static PairsTask read(Path file, Path validFile, Path testFile, Units sourceUnits, Units targetUnits, long seed)
            throws IOException {
        return new PairsTask(file, PairsFile.read(file), validFile == null ? null : PairsFile.read(validFile),
                testFile == null ? null : PairsFile.read(testFile), sourceUnits, targetUnits, seed);
    }

    PairsTask(Path file, List<PairsFile.Pair> pairs, Units sourceUnits, Units targetUnits, long seed) throws IOException {
        this(file, pairs, null, null, sourceUnits, targetUnits, seed);
    }

    /** {@code validPairs}, {@code testPairs}: given apart, or null to hold them out of {@code pairs}. */
    PairsTask(Path file, List<PairsFile.Pair> pairs, List<PairsFile.Pair> validPairs, List<PairsFile.Pair> testPairs,
              Units sourceUnits, Units targetUnits, long seed) throws IOException {
        int heldOut = (validPairs == null ? 1 : 0) + (testPairs == null ? 1 : 0);
        if (pairs.size() < 1 + heldOut) {
            throw new IOException(file + " holds " + pairs.size() + " pairs; training" + (heldOut > 0 ? " and what is held out" : "")
                    + " need at least " + (1 + heldOut));
        }
        List<PairsFile.Pair> all = new ArrayList<>(pairs);
        all.addAll(validPairs == null ? List.of() : validPairs);
        all.addAll(testPairs == null ? List.of() : testPairs);
        this.file = file;
        this.sourceUnits = sourceUnits;
        this.targetUnits = targetUnits;
        TreeSet<String> sourceTokens = new TreeSet<>(), targetTokens = new TreeSet<>();
        Tokenizer splitSource = tokenizer(new Vocabulary(List.of()), sourceUnits);
        Tokenizer splitTarget = tokenizer(new Vocabulary(List.of()), targetUnits);
        int longestSource = 0, longestTarget = 0;
        for (PairsFile.Pair p : all) {
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
        int testSize = testPairs != null ? 0 : Math.max(1, Math.min(2_000, n / 10));
        int validSize = validPairs != null ? 0 : Math.max(1, Math.min(1_000, n / 20));
        for (int i = 0; i < n; i++) {
            PairsFile.Pair p = pairs.get(order[i]);
            (i < testSize ? test : i < testSize + validSize ? validation : training).add(example(p));
        }
        for (PairsFile.Pair p : validPairs == null ? List.<PairsFile.Pair>of() : validPairs) {
            validation.add(example(p));
        }
        for (PairsFile.Pair p : testPairs == null ? List.<PairsFile.Pair>of() : testPairs) {
            test.add(example(p));
        }
    }

    private Example example(PairsFile.Pair p) {
        return new Example(canonical(p.source(), sourceUnits), canonical(p.target(), targetUnits));
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
        if (training.isEmpty()) {
            throw new UsageException("this pairs model was read from its checkpoint, without data: give --data FILE to train or test");
        }
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
        if (test.isEmpty()) {
            throw new UsageException("this pairs model was read from its checkpoint, without data: give --data FILE to test it");
        }
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

    /** The strings of a JSON array that {@link #json} wrote. */
    static List<String> parseJson(String text) {
        List<String> out = new ArrayList<>();
        int i = text.indexOf('[') + 1;
        if (i == 0) {
            throw new IllegalArgumentException("not a JSON array");
        }
        while (true) {
            while (i < text.length() && (text.charAt(i) == ',' || Character.isWhitespace(text.charAt(i)))) {
                i++;
            }
            if (i >= text.length()) {
                throw new IllegalArgumentException("an unterminated JSON array");
            }
            if (text.charAt(i) == ']') {
                return out;
            }
            if (text.charAt(i) != '"') {
                throw new IllegalArgumentException("a JSON array of strings expected");
            }
            StringBuilder sb = new StringBuilder();
            for (i++; text.charAt(i) != '"'; i++) {
                char c = text.charAt(i);
                if (c == '\\') {
                    char e = text.charAt(++i);
                    if (e == 'u') {
                        sb.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
                        i += 4;
                    } else {
                        sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            out.add(sb.toString());
            i++;
        }
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
