package dev.panamaformer.model;

import java.util.Arrays;

/**
 * A batch of source sequences and teacher-forced targets, row-major, all padded to fixed lengths.
 *
 * @param size      B
 * @param srcLength S
 * @param tgtLength T
 * @param src       (B, S) source ids
 * @param tgtIn     (B, T) decoder input: the target shifted right behind a start token
 * @param tgtOut    (B, T) the tokens to predict; padding positions are ignored by the loss
 */
public record Batch(int size, int srcLength, int tgtLength, int[] src, int[] tgtIn, int[] tgtOut) {
    public Batch {
        if (size < 1 || srcLength < 1 || tgtLength < 1) {
            throw new IllegalArgumentException("batch size and lengths must be at least 1, got (B, S, T) = ("
                    + size + ", " + srcLength + ", " + tgtLength + ")");
        }
        length("src", src, (long) size * srcLength, size, srcLength);
        length("tgtIn", tgtIn, (long) size * tgtLength, size, tgtLength);
        length("tgtOut", tgtOut, (long) size * tgtLength, size, tgtLength);
    }

    private static void length(String name, int[] ids, long expected, int b, int t) {
        if (ids == null || ids.length != expected) {
            throw new IllegalArgumentException(name + " needs " + expected + " ids for shape (" + b + ", " + t + "), got "
                    + (ids == null ? "null" : ids.length));
        }
    }

    /** Throws an exception naming the first id outside its vocabulary or a length beyond the position table. */
    void check(TransformerConfig config) {
        if (srcLength > config.maxPositions() || tgtLength > config.maxPositions()) {
            throw new IllegalArgumentException("sequence lengths (S, T) = (" + srcLength + ", " + tgtLength
                    + ") exceed the " + config.maxPositions() + " positions of the model");
        }
        ids("src", src, config.srcVocabSize(), srcLength);
        ids("tgtIn", tgtIn, config.tgtVocabSize(), tgtLength);
        ids("tgtOut", tgtOut, config.tgtVocabSize(), tgtLength);
    }

    private static void ids(String name, int[] ids, int vocab, int length) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException(name + " token id " + ids[i] + " at (" + i / length + ", " + i % length
                        + ") is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    @Override
    public String toString() {
        return "Batch[B=" + size + ", S=" + srcLength + ", T=" + tgtLength + ", src=" + Arrays.toString(src) + "]";
    }
}
