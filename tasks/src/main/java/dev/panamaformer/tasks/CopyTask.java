package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Copy: sequences of symbols 1..19; the target repeats the source (TASKS.md §2). */
public final class CopyTask implements Task {
    private final int length;
    private final Vocabulary vocabulary;

    public CopyTask(int length) {
        this.length = length;
        List<String> symbols = new ArrayList<>();
        for (int i = 1; i <= 19; i++) {
            symbols.add(Integer.toString(i));
        }
        this.vocabulary = new Vocabulary(symbols);
    }

    @Override
    public String name() {
        return "copy";
    }

    @Override
    public String directory() {
        return "copy";
    }

    @Override
    public Settings defaults() {
        // the reference's model (d 64, 2 layers, 2 heads, d_ff 128) and batch 40; Adam with a
        // higher rate after a warm-up than the reference's constant 1e-4, and the reference's
        // 5,000 steps as the budget, stopping early once validation is perfect
        return new Settings(
                new Settings.Model(64, 2, 2, 128, length, 0.1f, TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED),
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
        return length;
    }

    @Override
    public int targetLength() {
        return length;
    }

    @Override
    public boolean fixedLength() {
        return true;
    }

    @Override
    public Example sample(SplittableRandom random) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
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
        return new TestSet(size + " fresh sequences of length " + length, examples);
    }

    @Override
    public String explain(SplittableRandom random) {
        Example e = sample(random);
        int[] ids = source().encode(e.source());
        return "copy: " + length + " symbols drawn uniformly from 1..19; the target is the source.\n"
                + "vocabulary: " + vocabulary.size() + " tokens: <pad>=0, <s>=1, </s>=2, symbol k = k + 2\n"
                + "source text:  " + e.source() + "\n"
                + "source ids:   " + java.util.Arrays.toString(ids) + "\n"
                + "decoder in:   [1 (<s>), " + java.util.Arrays.toString(java.util.Arrays.copyOf(ids, ids.length - 1)).substring(1) + "\n"
                + "decoder out:  " + java.util.Arrays.toString(ids) + "  (fixed length " + length + ", no end token needed)";
    }
}
