package dev.panamaformer.model;

import java.util.Random;

/** Small configs and random batches for the model tests. */
final class TestModels {
    static final int PAD = 0;

    private TestModels() {
    }

    static TransformerConfig tiny(TransformerConfig.Activation act, TransformerConfig.Positions positions) {
        return new TransformerConfig(11, 9, 8, 2, 2, 12, 10, 0f, 0f, 1e-5f, act, positions, PAD);
    }

    /** Random ids in [1, vocab); sources padded at the end of some rows, targets too. */
    static Batch randomBatch(Random r, TransformerConfig c, int b, int s, int t) {
        int[] src = new int[b * s], tgtIn = new int[b * t], tgtOut = new int[b * t];
        for (int i = 0; i < b; i++) {
            int srcLen = 1 + r.nextInt(s), tgtLen = 1 + r.nextInt(t);
            for (int j = 0; j < s; j++) {
                src[i * s + j] = j < srcLen ? 1 + r.nextInt(c.srcVocabSize() - 1) : PAD;
            }
            for (int j = 0; j < t; j++) {
                tgtIn[i * t + j] = j < tgtLen ? 1 + r.nextInt(c.tgtVocabSize() - 1) : PAD;
                tgtOut[i * t + j] = j < tgtLen ? 1 + r.nextInt(c.tgtVocabSize() - 1) : PAD;
            }
        }
        return new Batch(b, s, t, src, tgtIn, tgtOut);
    }

    /** {@code n} ids drawn from [0, limit). */
    static int[] randomIds(Random r, int n, int limit) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(limit);
        }
        return ids;
    }

    /** {@code batch} with the given position ids. */
    static Batch withPositions(Batch batch, int[] srcPositions, int[] tgtPositions) {
        return new Batch(batch.size(), batch.srcLength(), batch.tgtLength(), batch.src(), batch.tgtIn(), batch.tgtOut(),
                srcPositions, tgtPositions);
    }

    /** A new temporary directory holding {@code valid.safetensors}, a checkpoint of a model of {@code config}. */
    static java.nio.file.Path directoryWithCheckpoint(String prefix, TransformerConfig config, long seed) throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(prefix);
        try (Transformer model = new Transformer(config, seed)) {
            Checkpoint.save(model, dir.resolve("valid.safetensors"));
        }
        return dir;
    }

    /** Deletes a directory and everything below it. */
    static void deleteTree(java.nio.file.Path dir) throws java.io.IOException {
        try (var files = java.nio.file.Files.walk(dir)) {
            for (java.nio.file.Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }
}
