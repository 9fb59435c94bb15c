package dev.panamaformer.tasks;

import dev.panamaformer.model.TransformerConfig;

/**
 * A task's hyper-parameters in three groups: the model's shape, the training schedule, and how
 * the run checks itself. Every field can be overridden by a command-line flag of the same name
 * (see {@link Flags}); the accessors of the fields are here too, so {@code s.lr()} reads as well
 * as {@code s.schedule().lr()}.
 */
public record Settings(Model model, Schedule schedule, Checks checks) {
    /**
     * The model's shape: width, depth, heads, feed-forward width, position table, dropout,
     * activation, positions, RoPE's position scale ({@link TransformerConfig#ropeScale()}) and the
     * attention window ({@link TransformerConfig#attentionWindow()}, 0: none).
     */
    public record Model(int hidden, int layers, int heads, int ff, int maxPositions, float dropout,
                        TransformerConfig.Activation activation, TransformerConfig.Positions positions, float ropeScale,
                        int window) {
        public Model(int hidden, int layers, int heads, int ff, int maxPositions, float dropout,
                     TransformerConfig.Activation activation, TransformerConfig.Positions positions, float ropeScale) {
            this(hidden, layers, heads, ff, maxPositions, dropout, activation, positions, ropeScale, 0);
        }

        public Model(int hidden, int layers, int heads, int ff, int maxPositions, float dropout,
                     TransformerConfig.Activation activation, TransformerConfig.Positions positions) {
            this(hidden, layers, heads, ff, maxPositions, dropout, activation, positions, 1f);
        }
    }

    /** Training: batch size, steps, peak learning rate, its warm-up steps, gradient-norm clip, seed. */
    public record Schedule(int batch, int steps, float lr, int warmup, float clip, long seed) {
    }

    /**
     * Checks: validate every {@code evalEvery} steps on {@code evalSize} fresh examples, test on
     * {@code testSize}; {@code target} is the validation exact match (in percent) that counts as
     * reached for early stopping.
     */
    public record Checks(int evalEvery, int evalSize, int testSize, float target) {
    }

    public Settings withSteps(int s) {
        Schedule t = schedule;
        return new Settings(model, new Schedule(t.batch(), s, t.lr(), t.warmup(), t.clip(), t.seed()), checks);
    }

    /** The model config for vocabularies of these sizes. */
    public TransformerConfig model(int srcVocab, int tgtVocab) {
        return new TransformerConfig(srcVocab, tgtVocab, hidden(), layers(), heads(), ff(), maxPositions(), dropout(), dropout(),
                1e-5f, activation(), positions(), Vocabulary.PAD, model.ropeScale(), model.window());
    }

    public int hidden() {
        return model.hidden();
    }

    public int layers() {
        return model.layers();
    }

    public int heads() {
        return model.heads();
    }

    public int ff() {
        return model.ff();
    }

    public int maxPositions() {
        return model.maxPositions();
    }

    public float dropout() {
        return model.dropout();
    }

    public TransformerConfig.Activation activation() {
        return model.activation();
    }

    public TransformerConfig.Positions positions() {
        return model.positions();
    }

    public int batch() {
        return schedule.batch();
    }

    public int steps() {
        return schedule.steps();
    }

    public float lr() {
        return schedule.lr();
    }

    public int warmup() {
        return schedule.warmup();
    }

    public float clip() {
        return schedule.clip();
    }

    public long seed() {
        return schedule.seed();
    }

    public int evalEvery() {
        return checks.evalEvery();
    }

    public int evalSize() {
        return checks.evalSize();
    }

    public int testSize() {
        return checks.testSize();
    }

    public float target() {
        return checks.target();
    }
}
