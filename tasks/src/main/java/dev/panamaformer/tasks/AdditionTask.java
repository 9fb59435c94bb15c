package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Addition (TASKS.md §3). The reference variant: operands in [0, 499] zero-padded to three
 * digits, {@code 153+391 -> 544}, tested on all 250,000 pairs. The lengths variant: operands of
 * 1 to 3 digits without leading zeros, padded with real padding tokens, the sum followed by an
 * end token; tested in distribution and on 4- and 5-digit operands it never saw.
 */
public final class AdditionTask implements Task {
    /** Which setting. */
    public enum Variant { REFERENCE, LENGTHS }

    /** The longest operand the lengths variant's position table is sized for. */
    static final int MAX_TEST_DIGITS = 5;

    private final Variant variant;
    private final Vocabulary vocabulary;

    public AdditionTask(Variant variant) {
        this.variant = variant;
        List<String> symbols = new ArrayList<>();
        for (char c = '0'; c <= '9'; c++) {
            symbols.add(String.valueOf(c));
        }
        symbols.add("+");
        this.vocabulary = new Vocabulary(symbols);
    }

    public Variant variant() {
        return variant;
    }

    @Override
    public String name() {
        return variant == Variant.REFERENCE ? "addition" : "addition (lengths)";
    }

    @Override
    public String directory() {
        return variant == Variant.REFERENCE ? "addition" : "addition/lengths";
    }

    @Override
    public Settings defaults() {
        // the reference's model (d 256, 3 layers, 4 heads, d_ff 512), batch 128 and 3,000 steps
        int positions = variant == Variant.REFERENCE ? 10 : 2 * MAX_TEST_DIGITS + 2;
        return new Settings(
                new Settings.Model(256, 3, 4, 512, positions, 0.1f, TransformerConfig.Activation.RELU,
                        TransformerConfig.Positions.LEARNED),
                new Settings.Schedule(128, 3000, 5e-4f, 300, 1f, 1),
                new Settings.Checks(250, 2000, variant == Variant.REFERENCE ? 0 : 10_000, 100f));
    }

    @Override
    public Tokenizer source() {
        return Tokenizer.characters(vocabulary);
    }

    @Override
    public Tokenizer target() {
        return Tokenizer.characters(vocabulary);
    }

    @Override
    public int sourceLength() {
        return variant == Variant.REFERENCE ? 7 : 2 * MAX_TEST_DIGITS + 1;
    }

    @Override
    public int targetLength() {
        return variant == Variant.REFERENCE ? 3 : MAX_TEST_DIGITS + 1;
    }

    @Override
    public boolean fixedLength() {
        return variant == Variant.REFERENCE;
    }

    /** The example for a + b in this variant's format. */
    public Example example(long a, long b) {
        if (variant == Variant.REFERENCE) {
            return new Example(String.format("%03d+%03d", a, b), String.format("%03d", a + b));
        }
        return new Example(a + "+" + b, Long.toString(a + b));
    }

    @Override
    public Example example(String source) {
        String[] parts = source.split("\\+");
        if (parts.length != 2 || !parts[0].matches("\\d{1,5}") || !parts[1].matches("\\d{1,5}")) {
            throw new UsageException("addition takes a sum like 153+391, got " + UserText.quoted(source));
        }
        return example(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }

    @Override
    public boolean digitTargets() {
        return true;
    }

    /** The lengths variant: fresh pairs of 1 to {@link #MAX_TEST_DIGITS}-digit operands, one set per length. */
    @Override
    public List<TestSet> additionalTests(int size, long seed) {
        if (variant != Variant.LENGTHS) {
            return List.of();
        }
        List<TestSet> sets = new ArrayList<>();
        for (int digits = 1; digits <= MAX_TEST_DIGITS; digits++) {
            TestSet set = lengthTestSet(digits, size, seed + digits);
            sets.add(new TestSet("length generalization (trained on 1- to 3-digit operands), " + set.description(),
                    set.examples()));
        }
        return sets;
    }

    /** A number of exactly {@code digits} digits (0 counts as one digit). */
    static long ofDigits(SplittableRandom random, int digits) {
        if (digits == 1) {
            return random.nextInt(10);
        }
        long low = (long) Math.pow(10, digits - 1);
        return low + random.nextLong(9 * low);
    }

    @Override
    public Example sample(SplittableRandom random) {
        if (variant == Variant.REFERENCE) {
            return example(random.nextInt(500), random.nextInt(500));
        }
        return example(ofDigits(random, 1 + random.nextInt(3)), ofDigits(random, 1 + random.nextInt(3)));
    }

    @Override
    public TestSet testSet(int size, long seed) {
        List<Example> examples = new ArrayList<>();
        if (variant == Variant.REFERENCE) {
            for (int a = 0; a < 500; a++) {
                for (int b = 0; b < 500; b++) {
                    examples.add(example(a, b));
                }
            }
            return new TestSet("all 250,000 pairs in [0,499]^2", examples);
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < size; i++) {
            examples.add(sample(random));
        }
        return new TestSet(size + " fresh pairs of 1- to 3-digit operands", examples);
    }

    /** Fresh pairs whose operands both have exactly {@code digits} digits. */
    public TestSet lengthTestSet(int digits, int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            examples.add(example(ofDigits(random, digits), ofDigits(random, digits)));
        }
        return new TestSet(size + " fresh pairs of " + digits + "-digit operands", examples);
    }

    @Override
    public String explain(SplittableRandom random) {
        Example e = example(153, 391);
        Example f = sample(random);
        StringBuilder sb = new StringBuilder();
        sb.append(variant == Variant.REFERENCE
                ? "addition: a + b with a, b uniform in [0, 499], each zero-padded to 3 digits; the sum zero-padded to 3 digits.\n"
                : "addition (lengths): operands of 1 to 3 digits, no leading zeros, padded with <pad>; the sum ends with </s>.\n");
        sb.append("vocabulary: <pad>=0, <s>=1, </s>=2, digits 0-9 = 3-12, '+' = 13 (the digit 0 is not padding)\n");
        for (Example x : List.of(e, f)) {
            sb.append(String.format("%-12s -> source ids %s, target %-6s -> ids %s%n", x.source(),
                    java.util.Arrays.toString(source().encode(x.source())), x.target(),
                    java.util.Arrays.toString(target().encode(x.target()))));
        }
        return sb.toString().stripTrailing();
    }
}
