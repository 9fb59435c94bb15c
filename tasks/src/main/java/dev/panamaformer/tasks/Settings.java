package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;

/**
 * A task's hyper-parameters: the model's shape, and how to train and test it. Every field can be
 * overridden by a command-line flag of the same name (see {@link Flags}). {@code target} is the
 * validation exact match (in percent) that counts as reached for early stopping.
 */
public record Settings(int hidden, int layers, int heads, int ff, int maxPositions, float dropout,
                       TransformerConfig.Activation activation, TransformerConfig.Positions positions,
                       int batch, int steps, float lr, int warmup, float clip, long seed,
                       int evalEvery, int evalSize, int testSize, float target) {

    public Settings withSteps(int s) {
        return new Settings(hidden, layers, heads, ff, maxPositions, dropout, activation, positions, batch, s, lr, warmup,
                clip, seed, evalEvery, evalSize, testSize, target);
    }

    /** The model config for vocabularies of these sizes. */
    public TransformerConfig model(int srcVocab, int tgtVocab) {
        return new TransformerConfig(srcVocab, tgtVocab, hidden, layers, heads, ff, maxPositions, dropout, dropout, 1e-5f,
                activation, positions, Vocabulary.PAD);
    }
}
