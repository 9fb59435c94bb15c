package dev.panamaformer.tasks;

/** One problem: the source text and the target text the model should produce. */
public record Example(String source, String target) {
}
