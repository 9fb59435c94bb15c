package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Decoding}'s loops decode in buffers the model keeps from one call to the next: decoding
 * again, at the same shape or a smaller one, allocates nothing and gives the same bits as
 * buffers of its own.
 */
class DecodingBuffersTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.LEARNED);
    private static final int BOS = 1, EOS = 2;

    @Test
    void evaluatingBetweenTrainingStepsAllocatesNothingAfterTheFirstTime() {
        Random random = new Random(5);
        int[][] validation = sources(random, 12, 7);
        try (Transformer model = new Transformer(CONFIG, 3);
             Trainer trainer = new Trainer(model, Trainer.Options.reference(1))) {
            long workspace = -1, decoding = -1;
            for (int step = 0; step < 4; step++) {
                trainer.step(TestModels.randomBatch(random, CONFIG, 6, 5, 4));
                Decoding.greedy(model, validation, BOS, EOS, 8);
                Decoding.greedy(model, new int[][] {validation[0], validation[1]}, BOS, EOS, 5); // a smaller shape
                if (step == 0) {
                    workspace = trainer.workspaceBytes();
                    decoding = model.decodingBytesAllocated();
                    assertTrue(decoding > 0 && workspace > 0);
                } else {
                    assertEquals(workspace, trainer.workspaceBytes(), "training buffers after step " + step);
                    assertEquals(decoding, model.decodingBytesAllocated(), "decoding buffers allocated after step " + step);
                }
            }
            assertTrue(model.decodingBufferBytes() > 0, "the idle buffers are kept");
            assertEquals(0, model.workspaceBytes(), "training allocates its buffers in the session, not in the model");
        }
    }

    @Test
    void buffersReusedAtASmallerShapeGiveTheBitsOfFreshOnes() {
        Random random = new Random(9);
        int[][] large = sources(random, 5, 8), small = sources(random, 2, 3);
        int steps = 6;
        try (Transformer model = new Transformer(CONFIG, 4)) {
            try (DecodingSession big = model.startPooledDecoding(large, PositionIds.SEQUENTIAL, 3, 9)) {
                for (int pos = 0; pos < 9; pos++) {
                    big.step(tokens(random, big.rows()));
                }
            }
            long allocated = model.decodingBytesAllocated();
            int[][] fed = new int[steps][];
            for (int pos = 0; pos < steps; pos++) {
                fed[pos] = tokens(random, small.length);
            }
            float[][] reused = new float[steps][], fresh = new float[steps][];
            try (DecodingSession session = model.startPooledDecoding(small, PositionIds.SEQUENTIAL, 1, steps)) {
                for (int pos = 0; pos < steps; pos++) {
                    reused[pos] = session.step(fed[pos]).toArray();
                }
            }
            assertEquals(allocated, model.decodingBytesAllocated(), "the smaller shape fits the buffers of the larger");
            try (DecodingSession session = model.startDecoding(small, 1, steps)) {
                for (int pos = 0; pos < steps; pos++) {
                    fresh[pos] = java.util.Arrays.copyOf(session.step(fed[pos]).toArray(), small.length * CONFIG.tgtVocabSize());
                }
            }
            for (int pos = 0; pos < steps; pos++) {
                float[] rows = java.util.Arrays.copyOf(reused[pos], small.length * CONFIG.tgtVocabSize());
                assertArrayEquals(fresh[pos], rows, "log-probabilities at position " + pos);
            }
        }
    }

    @Test
    void aClosedModelFreesItsIdleBuffersAndRefusesToDecode() {
        Transformer model = new Transformer(CONFIG, 4);
        Decoding.greedy(model, sources(new Random(1), 3, 4), BOS, EOS, 5);
        assertTrue(model.decodingBufferBytes() > 0);
        model.close();
        assertEquals(0, model.decodingBufferBytes());
        assertThrows(IllegalStateException.class, () -> Decoding.greedy(model, new int[][] {{3, 4}}, BOS, EOS, 5));
    }

    private static int[][] sources(Random random, int count, int longest) {
        int[][] sources = new int[count][];
        for (int i = 0; i < count; i++) {
            sources[i] = new int[1 + random.nextInt(longest)];
            for (int j = 0; j < sources[i].length; j++) {
                sources[i][j] = 1 + random.nextInt(CONFIG.srcVocabSize() - 1);
            }
        }
        // the first source is exactly `longest` tokens, so the batch pads the others to it
        sources[0] = java.util.Arrays.copyOf(sources[0], longest);
        for (int j = 0; j < longest; j++) {
            sources[0][j] = sources[0][j] == TestModels.PAD ? 3 : sources[0][j];
        }
        return sources;
    }

    private static int[] tokens(Random random, int rows) {
        int[] tokens = new int[rows];
        for (int r = 0; r < rows; r++) {
            tokens[r] = random.nextInt(CONFIG.tgtVocabSize());
        }
        return tokens;
    }
}
