package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Copy: sequences of symbols 1..19; the target repeats the source (TASKS.md §2). The reference
 * variant copies sequences of one length; the lengths variant trains on lengths 1 to
 * {@code length} and is tested beyond them, at {@link #TEST_LENGTHS} (issue 14: copy beyond its
 * length, per position type; learned positions past the trained ones only by interpolation).
 */
public final class CopyTask implements Task {
    /** Which copy. */
    public enum Variant { REFERENCE, LENGTHS }

    /** The lengths variant's test lengths beyond training: 1.5 and 2 times the trained 20. */
    static final int[] TEST_LENGTHS = {30, 40};

    private final int length;
    private final Variant variant;
    private final Vocabulary vocabulary;

    public CopyTask(int length) {
        this(length, Variant.REFERENCE);
    }

    /** {@code length}: the one length (reference), or the longest trained (lengths). */
    public CopyTask(int length, Variant variant) {
        this.length = length;
        this.variant = variant;
        List<String> symbols = new ArrayList<>();
        for (int i = 1; i <= 19; i++) {
            symbols.add(Integer.toString(i));
        }
        this.vocabulary = new Vocabulary(symbols);
    }

    @Override
    public String name() {
        return variant == Variant.REFERENCE ? "copy" : "copy (lengths)";
    }

    @Override
    public String directory() {
        return variant == Variant.REFERENCE ? "copy" : "copy/lengths";
    }

    /** The longest sequence of any test: {@link #length} for the reference, the longest test length beyond it otherwise. */
    private int longest() {
        return variant == Variant.REFERENCE ? length : Math.max(length, TEST_LENGTHS[TEST_LENGTHS.length - 1]);
    }

    @Override
    public Settings defaults() {
        // the reference's model (d 64, 2 layers, 2 heads, d_ff 128) and batch 40; Adam with a
        // higher rate after a warm-up than the reference's constant 1e-4, and the reference's
        // 5,000 steps as the budget, stopping early once validation is perfect
        // the lengths variant's model has positions for its longest test (with an end token): the
        // learned rows past the trained lengths stay untrained, the known negative, unless
        // decoding interpolates (--interpolate)
        int positions = variant == Variant.REFERENCE ? length : longest() + 1;
        return new Settings(
                new Settings.Model(64, 2, 2, 128, positions, 0.1f, TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED),
                new Settings.Schedule(40, 5000, 1e-3f, 200, 1f, 1),
                new Settings.Checks(250, 1000, 10_000, 100f));
    }

    @Override
    public Tokenizer source() {
        return Tokenizer.words(vocabulary);
    }

    @Override
    public Tokenizer target() {
        return Tokenizer.words(vocabulary);
    }

    @Override
    public int sourceLength() {
        return longest();
    }

    @Override
    public int targetLength() {
        return longest();
    }

    @Override
    public int trainingSourceLength() {
        return length;
    }

    @Override
    public int trainingTargetLength() {
        return length;
    }

    @Override
    public boolean fixedLength() {
        return variant == Variant.REFERENCE;
    }

    /** A copy is as long as its source: decoding stops there (with the end token, one more step). */
    @Override
    public int decodeLength(List<Example> examples) {
        if (variant == Variant.REFERENCE) {
            return length;
        }
        int longest = 1;
        for (Example e : examples) {
            longest = Math.max(longest, source().encode(e.source()).length);
        }
        return Math.min(longest(), longest) + 1;
    }

    @Override
    public Example sample(SplittableRandom random) {
        return sample(random, variant == Variant.REFERENCE ? length : 1 + random.nextInt(length));
    }

    /** A sequence of {@code n} symbols, copied. */
    private static Example sample(SplittableRandom random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(1 + random.nextInt(19));
        }
        return new Example(sb.toString(), sb.toString());
    }

    @Override
    public TestSet testSet(int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            examples.add(sample(random));
        }
        return new TestSet(size + " fresh sequences of length " + (variant == Variant.REFERENCE ? "" : "1 to ") + length, examples);
    }

    @Override
    public List<TestSet> additionalTests(int size, long seed) {
        if (variant == Variant.REFERENCE) {
            return List.of();
        }
        List<TestSet> sets = new ArrayList<>();
        for (int n : TEST_LENGTHS) {
            SplittableRandom random = new SplittableRandom(seed + n);
            List<Example> examples = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                examples.add(sample(random, n));
            }
            sets.add(new TestSet(size + " fresh sequences of length " + n + " (trained on 1 to " + length + ")", examples));
        }
        return sets;
    }

    @Override
    public String explain(SplittableRandom random) {
        Example e = sample(random);
        int[] ids = source().encode(e.source());
        if (variant == Variant.LENGTHS) {
            return "copy (lengths): 1 to " + length + " symbols drawn uniformly from 1..19 (the length too); the target is the"
                    + " source, then the end token; tested on fresh sequences of 1 to " + length + " and of "
                    + java.util.Arrays.toString(TEST_LENGTHS) + " symbols.\n"
                    + "source text:  " + e.source() + "\n"
                    + "source ids:   " + java.util.Arrays.toString(ids) + "\n"
                    + "decoder in:   [1 (<s>), " + java.util.Arrays.toString(ids).substring(1) + "\n"
                    + "decoder out:  " + java.util.Arrays.toString(ids).replace("]", ", 2 (</s>)]");
        }
        return "copy: " + length + " symbols drawn uniformly from 1..19; the target is the source.\n"
                + "vocabulary: " + vocabulary.size() + " tokens: <pad>=0, <s>=1, </s>=2, symbol k = k + 2\n"
                + "source text:  " + e.source() + "\n"
                + "source ids:   " + java.util.Arrays.toString(ids) + "\n"
                + "decoder in:   [1 (<s>), " + java.util.Arrays.toString(java.util.Arrays.copyOf(ids, ids.length - 1)).substring(1) + "\n"
                + "decoder out:  " + java.util.Arrays.toString(ids) + "  (fixed length " + length + ", no end token needed)";
    }
}
