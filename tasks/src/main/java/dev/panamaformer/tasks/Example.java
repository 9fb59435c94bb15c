package dev.panamaformer.tasks;

/**
 * One problem: the source text and the target text the model should produce, and an offset a
 * task may add to the position ids it gives the tokens ({@link Task#sourcePositions}; 0 unless a
 * task draws one in training).
 */
public record Example(String source, String target, int positionOffset) {
    public Example(String source, String target) {
        this(source, target, 0);
    }

    /** This example at offset 0, as tests, validation and pictures take it: an offset is a training augmentation. */
    public Example withoutOffset() {
        return positionOffset == 0 ? this : new Example(source, target);
    }
}
