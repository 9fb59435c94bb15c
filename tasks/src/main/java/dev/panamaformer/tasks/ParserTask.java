package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Parsing (TASKS.md §4). The simple variant is the reference's {@code v=d op d} with the tree
 * {@code ASSIGN v OP d1 d2} in pre-order, tested on all 1,200 expressions. The nested variant
 * parses assignments of expressions with parentheses and precedence over x, y, z and 0..99, of
 * nesting depth at most 3, into bracketed prefix trees; a tenth of all expressions (by hash of
 * the text) is held out of training and the test draws only from it.
 */
public final class ParserTask implements Task {
    /** Which grammar. */
    public enum Variant { SIMPLE, NESTED }

    /** The reference's four "additional tests". */
    public static final List<String> ADDITIONAL = List.of("x=1+2", "y=3*4", "z=5-1", "x=2/3");

    static final int NESTED_DEPTH = 3;
    private static final int NESTED_SOURCE = 40;
    private static final int NESTED_TARGET = 34;

    private final Variant variant;
    private final Vocabulary sourceVocabulary;
    private final Vocabulary targetVocabulary;

    public ParserTask(Variant variant) {
        this.variant = variant;
        List<String> src = new ArrayList<>(Expressions.VARIABLES);
        for (char c : "=+-*/0123456789()".toCharArray()) {
            src.add(String.valueOf(c));
        }
        this.sourceVocabulary = new Vocabulary(src);
        if (variant == Variant.SIMPLE) {
            List<String> tgt = new ArrayList<>(List.of("ASSIGN"));
            tgt.addAll(Expressions.NAMES);
            tgt.addAll(Expressions.VARIABLES);
            for (int d = 0; d <= 9; d++) {
                tgt.add(Integer.toString(d));
            }
            this.targetVocabulary = new Vocabulary(tgt);
        } else {
            this.targetVocabulary = new Vocabulary(Expressions.targetTokens());
        }
    }

    public Variant variant() {
        return variant;
    }

    @Override
    public Example example(String source) {
        Batches.sourceIds(this, source); // length and alphabet first: the parser recurses on parentheses
        return new Example(source, parse(source));
    }

    /** The simple grammar: the reference's four "additional tests". */
    @Override
    public List<TestSet> additionalTests(int size, long seed) {
        if (variant != Variant.SIMPLE) {
            return List.of();
        }
        List<Example> extra = new ArrayList<>();
        for (String src : ADDITIONAL) {
            extra.add(new Example(src, parse(src)));
        }
        return List.of(new TestSet("the reference's additional tests", extra));
    }

    @Override
    public String name() {
        return variant == Variant.SIMPLE ? "parser" : "parser (nested)";
    }

    @Override
    public String directory() {
        return variant == Variant.SIMPLE ? "parser" : "parser/nested";
    }

    @Override
    public Settings defaults() {
        // the reference's model (d 128, 3 layers, 4 heads, d_ff 512) and batch 64; 600 steps for the simple form
        return variant == Variant.SIMPLE
                ? new Settings(
                        new Settings.Model(128, 3, 4, 512, 10, 0.1f, TransformerConfig.Activation.RELU,
                                TransformerConfig.Positions.LEARNED),
                        new Settings.Schedule(64, 600, 1e-3f, 60, 1f, 1),
                        new Settings.Checks(50, 1200, 0, 100f))
                : new Settings(
                        new Settings.Model(128, 3, 4, 512, NESTED_SOURCE, 0.1f, TransformerConfig.Activation.RELU,
                                TransformerConfig.Positions.LEARNED),
                        new Settings.Schedule(64, 6000, 1e-3f, 300, 1f, 1),
                        new Settings.Checks(500, 2000, 5000, 99.8f));
    }

    @Override
    public Tokenizer source() {
        return Tokenizer.characters(sourceVocabulary);
    }

    @Override
    public Tokenizer target() {
        return Tokenizer.words(targetVocabulary);
    }

    @Override
    public int sourceLength() {
        return variant == Variant.SIMPLE ? 5 : NESTED_SOURCE;
    }

    @Override
    public int targetLength() {
        return variant == Variant.SIMPLE ? 5 : NESTED_TARGET - 1;
    }

    @Override
    public boolean fixedLength() {
        return variant == Variant.SIMPLE;
    }

    /** The truth for an assignment's text: the tree the grammar gives it, in this variant's target form. */
    public String parse(String source) {
        Object[] parsed = Expressions.parseAssignment(source);
        String v = (String) parsed[0];
        Expressions.Node tree = (Expressions.Node) parsed[1];
        if (variant == Variant.NESTED) {
            return Expressions.prefix(v, tree);
        }
        if (tree.isLeaf() || !tree.left().isLeaf() || !tree.right().isLeaf() || tree.left().leaf().length() > 1
                || tree.right().leaf().length() > 1 || !Character.isDigit(tree.left().leaf().charAt(0))
                || !Character.isDigit(tree.right().leaf().charAt(0))) {
            throw new IllegalArgumentException("'" + source + "' is not of the simple form v=d op d");
        }
        return "ASSIGN " + v + " " + Expressions.NAMES.get(Expressions.OPS.indexOf(tree.op())) + " "
                + tree.left().leaf() + " " + tree.right().leaf();
    }

    /** Whether an expression's text belongs to the held-out tenth of the nested grammar. */
    static boolean heldOut(String source) {
        return Math.floorMod(source.hashCode() * 0x9E3779B9, 10) == 0;
    }

    private Example nested(SplittableRandom r) {
        String v = Expressions.VARIABLES.get(r.nextInt(3));
        Expressions.Node tree = Expressions.random(r, NESTED_DEPTH);
        String source = v + "=" + Expressions.infix(tree, r);
        return new Example(source, Expressions.prefix(v, tree));
    }

    @Override
    public Example sample(SplittableRandom random) {
        if (variant == Variant.SIMPLE) {
            String v = Expressions.VARIABLES.get(random.nextInt(3));
            String source = v + "=" + random.nextInt(10) + Expressions.OPS.charAt(random.nextInt(4)) + random.nextInt(10);
            return new Example(source, parse(source));
        }
        while (true) {
            Example e = nested(random);
            if (!heldOut(e.source())) {
                return e;
            }
        }
    }

    @Override
    public TestSet testSet(int size, long seed) {
        List<Example> examples = new ArrayList<>();
        if (variant == Variant.SIMPLE) {
            for (String v : Expressions.VARIABLES) {
                for (int a = 0; a <= 9; a++) {
                    for (char op : Expressions.OPS.toCharArray()) {
                        for (int b = 0; b <= 9; b++) {
                            String source = v + "=" + a + op + b;
                            examples.add(new Example(source, parse(source)));
                        }
                    }
                }
            }
            return new TestSet("all 1,200 expressions v=d op d", examples);
        }
        SplittableRandom random = new SplittableRandom(seed);
        Set<String> seen = new HashSet<>();
        while (examples.size() < size) {
            Example e = nested(random);
            if (heldOut(e.source()) && seen.add(e.source())) {
                examples.add(e);
            }
        }
        return new TestSet(size + " distinct held-out expressions of nesting depth <= " + NESTED_DEPTH, examples);
    }

    @Override
    public String explain(SplittableRandom random) {
        StringBuilder sb = new StringBuilder();
        if (variant == Variant.SIMPLE) {
            sb.append("parser: v=d op d with v in {x,y,z}, d in 0..9, op in + - * /; the tree [ASSIGN, v, [OP, d1, d2]] in pre-order.\n");
        } else {
            sb.append("parser (nested): v=expression over x, y, z, 0..99, + - * / and parentheses, depth <= 3;\n");
            sb.append("the tree in prefix with explicit brackets, (OP left right); * and / bind tighter, operators associate left.\n");
        }
        sb.append("source vocabulary: one token per character; target vocabulary: " + targetVocabulary.size()
                + " tokens, digits and variables distinct from the specials <pad>=0, <s>=1, </s>=2\n");
        List<Example> shown = new ArrayList<>();
        if (variant == Variant.SIMPLE) {
            for (String s : ADDITIONAL) {
                shown.add(new Example(s, parse(s)));
            }
        } else {
            shown.add(new Example("x=(3+y)*12", parse("x=(3+y)*12")));
            shown.add(new Example("z=x-y-1", parse("z=x-y-1")));
            shown.add(sample(random));
        }
        for (Example e : shown) {
            sb.append(String.format("%-24s ids %s%n%-24s -> %s%n%-24s ids %s%n", e.source(),
                    java.util.Arrays.toString(source().encode(e.source())), "", e.target(), "",
                    java.util.Arrays.toString(target().encode(e.target()))));
        }
        return sb.toString().stripTrailing();
    }
}
