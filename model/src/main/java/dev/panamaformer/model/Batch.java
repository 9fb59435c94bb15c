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
 * @param tgtOut    (B, T) the tokens to predict; padding positions are ignored by the loss. Null
 *                  for a batch of inputs alone ({@link #inputs}): its forward pass computes the
 *                  log-probabilities and no loss, and no backward pass or training step follows
 * @param srcPositions (B, S) the position id of each source token, or null: 0, 1, ..., S - 1 in
 *                  every row. Ids need not follow the order of the tokens: a task may number them
 *                  by meaning (the addition task gives digits of one significance one id), and the
 *                  position embeddings and RoPE use them as they are. Each in [0, max positions).
 * @param tgtPositions (B, T) alike for the decoder's input tokens, or null
 */
public record Batch(int size, int srcLength, int tgtLength, int[] src, int[] tgtIn, int[] tgtOut, int[] srcPositions,
                    int[] tgtPositions) {
    public Batch {
        if (size < 1 || srcLength < 1 || tgtLength < 1) {
            throw new IllegalArgumentException("batch size and lengths must be at least 1, got (B, S, T) = ("
                    + size + ", " + srcLength + ", " + tgtLength + ")");
        }
        length("src", src, (long) size * srcLength, size, srcLength);
        length("tgtIn", tgtIn, (long) size * tgtLength, size, tgtLength);
        if (tgtOut != null) {
            length("tgtOut", tgtOut, (long) size * tgtLength, size, tgtLength);
        }
        if (srcPositions != null) {
            length("srcPositions", srcPositions, (long) size * srcLength, size, srcLength);
        }
        if (tgtPositions != null) {
            length("tgtPositions", tgtPositions, (long) size * tgtLength, size, tgtLength);
        }
    }

    /** A batch with targets whose tokens are at positions 0, 1, 2, ... of their sequences. */
    public Batch(int size, int srcLength, int tgtLength, int[] src, int[] tgtIn, int[] tgtOut) {
        this(size, srcLength, tgtLength, src, tgtIn, requireTargets(tgtOut), null, null);
    }

    private static int[] requireTargets(int[] tgtOut) {
        if (tgtOut == null) {
            throw new IllegalArgumentException("tgtOut is null: a batch without targets is Batch.inputs(...)");
        }
        return tgtOut;
    }

    /**
     * A batch of inputs without targets, for inference through {@link Transformer#forward}: the
     * log-probabilities of every target position, no loss (the forward returns NaN). Positions as
     * in the canonical constructor (null for 0, 1, 2, ...).
     */
    public static Batch inputs(int size, int srcLength, int tgtLength, int[] src, int[] tgtIn, int[] srcPositions,
                               int[] tgtPositions) {
        return new Batch(size, srcLength, tgtLength, src, tgtIn, null, srcPositions, tgtPositions);
    }

    /** Whether the batch has targets ({@link #tgtOut()}), so that a loss, a backward pass and a training step can follow. */
    public boolean hasTargets() {
        return tgtOut != null;
    }

    private static void length(String name, int[] ids, long expected, int b, int t) {
        if (ids == null || ids.length != expected) {
            throw new IllegalArgumentException(name + " needs " + expected + " ids for shape (" + b + ", " + t + "), got "
                    + (ids == null ? "null" : ids.length));
        }
    }

    /** Throws an exception naming the first id outside its vocabulary or a position beyond the position table. */
    void check(TransformerConfig config) {
        check(config, config.maxPositions(), "");
    }

    /**
     * {@link #check(TransformerConfig)} with positions allowed up to {@code positions} (a decoding
     * session's, with scaling), {@code hint} added to the message of too long a sequence.
     */
    void check(TransformerConfig config, int positions, String hint) {
        if ((srcPositions == null && srcLength > positions) || (tgtPositions == null && tgtLength > positions)) {
            throw new IllegalArgumentException("sequence lengths (S, T) = (" + srcLength + ", " + tgtLength
                    + ") exceed the " + positions + " positions of the model" + hint);
        }
        if (srcPositions != null) {
            RowPositions.check("srcPositions", srcPositions, srcLength, positions);
        }
        if (tgtPositions != null) {
            RowPositions.check("tgtPositions", tgtPositions, tgtLength, positions);
        }
        ids("src", src, config.srcVocabSize(), srcLength);
        ids("tgtIn", tgtIn, config.tgtVocabSize(), tgtLength);
        if (tgtOut != null) {
            ids("tgtOut", tgtOut, config.tgtVocabSize(), tgtLength);
        }
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
