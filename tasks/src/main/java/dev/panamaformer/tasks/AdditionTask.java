package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Addition (TASKS.md §3). The reference variant: operands in [0, 499] zero-padded to three
 * digits, {@code 153+391 -> 544}, tested on all 250,000 pairs. The lengths variant: operands of
 * 1 to 3 digits without leading zeros, padded with real padding tokens, the sum followed by an
 * end token; tested in distribution and on operands of 4 to 10 digits it never saw, in one of
 * four encodings ({@link Encoding}).
 */
public final class AdditionTask implements Task {
    /** Which setting. */
    public enum Variant { REFERENCE, LENGTHS }

    /**
     * How the lengths variant writes a sum for the model. {@code PLAIN}: as a person does,
     * {@code 153+391 -> 544}, tokens at positions 0, 1, 2, ...; {@code REVERSED}: the answer least
     * significant digit first, {@code 153+391 -> 445}, so that each digit is written after the
     * carry that enters it (Lee et al. 2023); {@code COUPLED}: reversed, the source ends with
     * '=', and every digit's position id is its significance (units 1, tens 2, ...) in both
     * operands and the answer, plus an offset drawn per training example (0 in tests), so that
     * the decoder finds the digits it adds by their id and ids beyond the trained lengths are
     * trained too (position coupling, Cho et al. 2024; Abacus embeddings, McLeish et al. 2024).
     * Each operand's marker ('+' after the first, '=' after the second) takes the id above its
     * top digit, so that where a number ends is found by id as well; padding is at 0.
     * {@code HINTED}: index hints (Zhou et al. 2024), the answer reversed and every digit, in the
     * operands and the answer, preceded by a letter naming its significance, {@code a} for the
     * units of an untrained offset: {@code 153+391 -> c1b5a3+c3b9a1 -> a4b4c5}; the letters start
     * at an offset drawn per training example (0 in tests), so that letters beyond the trained
     * lengths are trained too; tokens at their places (0, 1, 2, ...). The model writes the
     * letters as well, and exact match asks for them. Its default positions are {@code ROPE}:
     * learned rows past the trained lengths would never be trained.
     */
    public enum Encoding { PLAIN, REVERSED, COUPLED, HINTED }

    /** The index hints' letters, one per significance from the offset: a, b, c, ... */
    static final int HINTS = 20;

    /** The operand lengths the lengths variant trains on: 1 to this. */
    static final int TRAIN_DIGITS = 3;
    /** The longest operand the lengths variant's tests and position table are sized for. */
    static final int MAX_TEST_DIGITS = 10;
    /** The operand lengths the lengths variant tests beyond the trained ones. */
    static final int[] TEST_DIGITS = {1, 2, 3, 4, 5, 6, 8, 10};

    private final Variant variant;
    private final Encoding encoding;
    private final Vocabulary vocabulary;

    /** The variant in its default encoding ({@code COUPLED} for the lengths variant). */
    public AdditionTask(Variant variant) {
        this(variant, variant == Variant.LENGTHS ? Encoding.COUPLED : Encoding.PLAIN);
    }

    public AdditionTask(Variant variant, Encoding encoding) {
        if (variant == Variant.REFERENCE && encoding != Encoding.PLAIN) {
            throw new UsageException("the reference variant has the reference's encoding only; --encoding is for --variant lengths");
        }
        this.variant = variant;
        this.encoding = encoding;
        List<String> symbols = new ArrayList<>();
        for (char c = '0'; c <= '9'; c++) {
            symbols.add(String.valueOf(c));
        }
        symbols.add("+");
        if (encoding == Encoding.COUPLED) {
            symbols.add("=");
        }
        if (encoding == Encoding.HINTED) {
            for (int i = 0; i < HINTS; i++) {
                symbols.add(String.valueOf((char) ('a' + i)));
            }
        }
        this.vocabulary = new Vocabulary(symbols);
    }

    public Variant variant() {
        return variant;
    }

    public Encoding encoding() {
        return encoding;
    }

    @Override
    public String name() {
        return variant == Variant.REFERENCE ? "addition" : "addition (lengths, " + encoding.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    @Override
    public String directory() {
        return variant == Variant.REFERENCE ? "addition" : "addition/lengths-" + encoding.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public Settings defaults() {
        // the reference's model (d 256, 3 layers, 4 heads, d_ff 512), batch 128 and 3,000 steps
        int positions = variant == Variant.REFERENCE ? 10 : sourceLength();
        // the lengths variant's coupled encoding: RoPE in cross-attention too, turning 4 times as
        // fast as the paper's, and every attention kept to ids within 1 of the query's, so that a
        // digit sees its own significance and the two beside it whatever the length (the best of
        // the settings measured; README, "Addition beyond its trained length")
        // index hints: RoPE, whose relative scores meet no untrained table row at longer sums
        boolean coupled = encoding == Encoding.COUPLED;
        TransformerConfig.Positions kind = coupled ? TransformerConfig.Positions.ROPE_CROSS
                : encoding == Encoding.HINTED ? TransformerConfig.Positions.ROPE : TransformerConfig.Positions.LEARNED;
        return new Settings(
                new Settings.Model(256, 3, 4, 512, positions, 0.1f, TransformerConfig.Activation.RELU, kind, coupled ? 0.25f : 1f,
                        coupled ? 1 : 0),
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
        return variant == Variant.REFERENCE ? 7 : 2 * perDigit() * MAX_TEST_DIGITS + 1 + marker().length();
    }

    @Override
    public int targetLength() {
        return variant == Variant.REFERENCE ? 3 : perDigit() * (MAX_TEST_DIGITS + 1);
    }

    @Override
    public int trainingSourceLength() {
        return variant == Variant.REFERENCE ? 7 : 2 * perDigit() * TRAIN_DIGITS + 1 + marker().length();
    }

    @Override
    public int trainingTargetLength() {
        return variant == Variant.REFERENCE ? 3 : perDigit() * (TRAIN_DIGITS + 1);
    }

    /** Tokens per digit: 2 with index hints (a letter, then the digit), else 1. */
    private int perDigit() {
        return encoding == Encoding.HINTED ? 2 : 1;
    }

    @Override
    public boolean fixedLength() {
        return variant == Variant.REFERENCE;
    }

    /** What ends a source: '=' in the coupled encoding, nothing in the others. */
    private String marker() {
        return encoding == Encoding.COUPLED ? "=" : "";
    }

    /**
     * The largest offset a training example draws. Coupled: its highest id, the end token's, stays
     * inside the table. Hinted: the letter of its answer's top digit stays among the {@link #HINTS}.
     */
    int maxOffset() {
        return encoding == Encoding.HINTED ? HINTS - (TRAIN_DIGITS + 1) : sourceLength() - 1 - (trainingTargetLength() + 1);
    }

    /** The example for a + b in this variant's format. */
    public Example example(long a, long b) {
        return example(a, b, 0);
    }

    private Example example(long a, long b, int offset) {
        if (variant == Variant.REFERENCE) {
            return new Example(String.format("%03d+%03d", a, b), String.format("%03d", a + b));
        }
        String sum = Long.toString(a + b);
        if (encoding == Encoding.HINTED) {
            return new Example(hinted(Long.toString(a), offset) + "+" + hinted(Long.toString(b), offset),
                    hinted(reverse(sum), offset, true), offset);
        }
        return new Example(a + "+" + b + marker(), encoding == Encoding.PLAIN ? sum : reverse(sum), offset);
    }

    /** {@code number} (most significant digit first) with each digit after the letter of its significance from {@code offset}. */
    private static String hinted(String number, int offset) {
        return hinted(number, offset, false);
    }

    private static String hinted(String digits, int offset, boolean unitsFirst) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0, n = digits.length(); i < n; i++) {
            int significance = unitsFirst ? i : n - 1 - i;
            sb.append((char) ('a' + offset + significance)).append(digits.charAt(i));
        }
        return sb.toString();
    }

    private static String reverse(String s) {
        return new StringBuilder(s).reverse().toString();
    }

    @Override
    public Example example(String source) {
        // hinted: the sum bare (153+391) or with the hints this encoding writes (c1b5a3+c3b9a1), nothing else
        String bare = encoding == Encoding.HINTED ? source.replaceAll("[a-z]", "") : source;
        String[] parts = (bare.endsWith("=") ? bare.substring(0, bare.length() - 1) : bare).split("\\+");
        int digits = variant == Variant.REFERENCE ? 3 : MAX_TEST_DIGITS;
        String number = "\\d{1," + digits + "}";
        if (parts.length != 2 || !parts[0].matches(number) || !parts[1].matches(number)) {
            throw new UsageException("addition takes a sum of two numbers of up to " + digits + " digits like 153+391, got "
                    + UserText.quoted(source));
        }
        Example e = example(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        if (!bare.equals(source) && !source.equals(e.source())) {
            throw new UsageException("hints are written by the encoding: give " + UserText.quoted(bare) + " or "
                    + UserText.quoted(e.source()) + ", got " + UserText.quoted(source));
        }
        return e;
    }

    /** Hinted: the example again at offset 0, its letters from {@code a} (validation and tests are at offset 0). */
    @Override
    public Example atOffsetZero(Example e) {
        if (encoding != Encoding.HINTED) {
            return e.withoutOffset();
        }
        String[] parts = e.source().replaceAll("[a-z]", "").split("\\+");
        return example(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }

    /**
     * With the coupled encoding: each digit at its significance plus 1 plus the example's offset,
     * and each operand's marker ('+', '=') at the id above its top digit.
     */
    @Override
    public int[] sourcePositions(Example e) {
        if (encoding != Encoding.COUPLED) {
            return null;
        }
        String src = e.source();
        int[] ids = new int[src.length()];
        int start = 0;
        for (int i = 0; i < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '+' || c == '=') {
                for (int j = start; j < i; j++) {
                    ids[j] = e.positionOffset() + i - j; // significance i - 1 - j, plus 1
                }
                ids[i] = e.positionOffset() + i - start + 1;
                start = i + 1;
            }
        }
        return ids;
    }

    /** With the coupled encoding: the answer's units digit is predicted at id 1 plus the offset, as the operands' units. */
    @Override
    public int targetStart(Example e) {
        return encoding == Encoding.COUPLED ? e.positionOffset() + 1 : 0;
    }

    @Override
    public String readable(String target) {
        if (encoding == Encoding.HINTED) {
            return wellHinted(target) ? reverse(target.replaceAll("[a-z]", "")) : target;
        }
        return encoding == Encoding.PLAIN ? target : reverse(target);
    }

    /** Letter, digit, letter, digit, ..., the letters consecutive: an answer whose digits can be read. */
    private static boolean wellHinted(String s) {
        if (s.isEmpty() || s.length() % 2 != 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i += 2) {
            char hint = s.charAt(i);
            if (hint < 'a' || hint > 'z' || !Character.isDigit(s.charAt(i + 1)) || (i > 0 && hint != s.charAt(i - 2) + 1)) {
                return false;
            }
        }
        return true;
    }

    /** The lengths variant trains all its steps: 100 % on 1-3 digits comes long before its longer sums do. */
    @Override
    public boolean stopsEarly() {
        return variant == Variant.REFERENCE;
    }

    @Override
    public boolean digitTargets() {
        return true;
    }

    /** The lengths variant: fresh pairs of operands of each of {@link #TEST_DIGITS} digits. */
    @Override
    public List<TestSet> additionalTests(int size, long seed) {
        if (variant != Variant.LENGTHS) {
            return List.of();
        }
        List<TestSet> sets = new ArrayList<>();
        for (int digits : TEST_DIGITS) {
            TestSet set = lengthTestSet(digits, size, seed + digits);
            sets.add(new TestSet("length generalization (trained on 1- to " + TRAIN_DIGITS + "-digit operands), "
                    + set.description(), set.examples()));
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
        long a = ofDigits(random, 1 + random.nextInt(TRAIN_DIGITS)), b = ofDigits(random, 1 + random.nextInt(TRAIN_DIGITS));
        boolean offset = encoding == Encoding.COUPLED || encoding == Encoding.HINTED;
        return example(a, b, offset ? random.nextInt(maxOffset() + 1) : 0);
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
        for (int i = 0; i < size; i++) { // the pairs sample() draws, at offset 0: the same in every encoding
            long a = ofDigits(random, 1 + random.nextInt(TRAIN_DIGITS));
            examples.add(example(a, ofDigits(random, 1 + random.nextInt(TRAIN_DIGITS))));
        }
        return new TestSet(size + " fresh pairs of 1- to " + TRAIN_DIGITS + "-digit operands", examples);
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
        StringBuilder sb = new StringBuilder();
        if (variant == Variant.REFERENCE) {
            sb.append("addition: a + b with a, b uniform in [0, 499], each zero-padded to 3 digits; the sum zero-padded to 3 digits.\n");
        } else {
            sb.append("addition (lengths): operands of 1 to ").append(TRAIN_DIGITS).append(" digits, no leading zeros, padded with")
                    .append(" <pad>; the sum ends with </s>. Tested on operands of up to ").append(MAX_TEST_DIGITS).append(" digits.\n");
            sb.append(switch (encoding) {
                case PLAIN -> "encoding plain: the answer as written, every token at its place in its sequence (0, 1, 2, ...).\n";
                case REVERSED -> "encoding reversed: the answer least significant digit first; tokens at their places (0, 1, 2, ...).\n";
                case COUPLED -> "encoding coupled: the answer reversed, the source ended by '='; a digit's position id is its"
                        + " significance (units 1, tens 2, ...) plus an offset drawn per training example from [0, " + maxOffset()
                        + "] (0 in tests), in both operands and the answer; '+' and '=' at the id above their operand's top digit.\n";
                case HINTED -> "encoding hinted: the answer reversed; every digit after a letter naming its significance (index hints),"
                        + " the units' letter 'a' plus an offset drawn per training example from [0, " + maxOffset()
                        + "] (0 in tests); tokens at their places (0, 1, 2, ...).\n";
            });
        }
        sb.append("vocabulary: <pad>=0, <s>=1, </s>=2, digits 0-9 = 3-12, '+' = 13").append(marker().isEmpty() ? "" : ", '=' = 14")
                .append(encoding == Encoding.HINTED ? ", letters a-" + (char) ('a' + HINTS - 1) + " = 14-" + (13 + HINTS) : "")
                .append(" (the digit 0 is not padding)\n");
        for (Example x : List.of(example(153, 391), sample(random))) {
            sb.append(String.format("%-12s -> source ids %s, target %-6s -> ids %s%n", x.source(),
                    java.util.Arrays.toString(source().encode(x.source())), x.target(),
                    java.util.Arrays.toString(target().encode(x.target()))));
            int[] ids = sourcePositions(x);
            if (ids != null) {
                sb.append(String.format("%-12s    source positions %s, decoder positions from %d (offset %d)%n", "",
                        java.util.Arrays.toString(ids), targetStart(x), x.positionOffset()));
            }
        }
        return sb.toString().stripTrailing();
    }
}
