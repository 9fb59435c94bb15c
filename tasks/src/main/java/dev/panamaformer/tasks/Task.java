package dev.panamaformer.tasks;

import java.util.List;
import java.util.SplittableRandom;

/** A sequence-to-sequence problem with its data, tokenizers and defaults. */
public interface Task {
    /** As on the command line, e.g. "copy" or "parser (nested)". */
    String name();

    /** Where its runs go below the output root, e.g. "copy" or "parser/nested". */
    String directory();

    Settings defaults();

    Tokenizer source();

    Tokenizer target();

    /** Source length in tokens that batches pad to. */
    int sourceLength();

    /** Target length in tokens, without start and end tokens. */
    int targetLength();

    /**
     * The source length training batches pad to: the longest of {@link #sample}'s sources, which
     * may be shorter than the longest a test set holds (a task that tests on longer inputs than
     * it trains on). {@link #sourceLength()} unless a task says so.
     */
    default int trainingSourceLength() {
        return sourceLength();
    }

    /** The target length of training batches, as {@link #trainingSourceLength()}. */
    default int trainingTargetLength() {
        return targetLength();
    }

    /**
     * The most decoding steps a batch of {@code examples} takes: by default the decoder length of
     * the longest target ({@link #targetLength()}, plus the end token where targets vary). A task
     * whose output length follows from its input (copy) may bound it by the batch's sources, so
     * that a decoding session asks for no more positions than it uses.
     */
    default int decodeLength(List<Example> examples) {
        return targetLength() + (fixedLength() ? 0 : 1);
    }

    /** Fixed-length targets are decoded to exactly {@link #targetLength()} tokens and carry no end token. */
    boolean fixedLength();

    /** A training example, drawn from the task's training distribution. */
    Example sample(SplittableRandom random);

    /**
     * The test set: the whole input space where it is small enough, else {@code size} fresh
     * examples drawn with {@code seed} (a stream apart from training's).
     */
    TestSet testSet(int size, long seed);

    /**
     * The example of a source a user wrote (as {@code attention --example} takes it), its target
     * by the task's own rules; a {@link UsageException} naming the expected form for a source that
     * is not of it. By default the target is the source itself (the copy task).
     */
    default Example example(String source) {
        source().encode(source);
        return new Example(source, source);
    }

    /**
     * The position id of each source token of {@code e}, or null for 0, 1, 2, ... A task may
     * number tokens by meaning (the addition task's coupled encoding gives the digits of one
     * significance one id); the model reads them in training and decoding alike.
     */
    default int[] sourcePositions(Example e) {
        return null;
    }

    /** The position id of the decoder's first input for {@code e}; the next inputs follow it. */
    default int targetStart(Example e) {
        return 0;
    }

    /** A target as a person reads it (the addition task may train on reversed answers); by default as it is. */
    default String readable(String target) {
        return target;
    }

    /**
     * Whether training stops once validation meets its target (at {@code --patience} evaluations
     * in a row). A task whose validation cannot see what it is tested on (the addition lengths
     * variant validates on the trained lengths and is tested beyond them) trains all its steps.
     */
    default boolean stopsEarly() {
        return true;
    }

    /** Whether targets are numbers, so that evaluation also scores their digits aligned from the right. */
    default boolean digitTargets() {
        return false;
    }

    /**
     * Test sets the test command runs after the main one, each reported on its own line (or
     * example by example where it is a handful), of {@code size} fresh examples drawn from
     * {@code seed} where they are drawn; none by default.
     */
    default List<TestSet> additionalTests(int size, long seed) {
        return List.of();
    }

    /**
     * The validation examples a training run checks itself on: by default {@code size} fresh ones
     * drawn from {@code random} (a stream apart from training's); a task of a fixed data set
     * returns its held-out pairs.
     */
    default List<Example> validation(int size, SplittableRandom random) {
        List<Example> examples = new java.util.ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            examples.add(atOffsetZero(sample(random)));
        }
        return examples;
    }

    /** {@code e} as validation and tests see it: at offset 0 (by default, the same tokens with the offset field cleared). */
    default Example atOffsetZero(Example e) {
        return e.withoutOffset();
    }

    /** Whether the test command also reports the error rate: edits per reference token (character or word error rate). */
    default boolean reportsErrorRate() {
        return false;
    }

    /** What the checkpoint keeps beside the weights for this task (e.g. a vocabulary read from data); none by default. */
    default java.util.Map<String, String> metadata() {
        return java.util.Map.of();
    }

    /** A few lines that show the data layout and tokenization, like the reference's explain functions. */
    String explain(SplittableRandom random);

    /** Test examples with a description, e.g. "all 250,000 pairs in [0,499]^2". */
    record TestSet(String description, List<Example> examples) {
    }
}
