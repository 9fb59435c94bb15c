package dev.panamaformer.kernels;

import static dev.panamaformer.kernels.TestData.UNDER_TEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class LossPropertiesTest {
    private static final int IGNORE = -100;

    @Provide
    Arbitrary<Integer> vocab() {
        return TestData.sizes(200).filter(v -> v > 0);
    }

    private static int[] targets(Random r, int rows, int vocab) {
        int[] t = new int[rows];
        for (int i = 0; i < rows; i++) {
            t[i] = r.nextInt(5) == 0 ? IGNORE : r.nextInt(vocab);
        }
        return t;
    }

    /** The log-probabilities and, in the last slot, the loss. */
    private static float[] forward(Kernels k, float[] logits, int[] targets, int rows, int vocab) {
        try (Arena arena = Arena.ofShared()) {
            FloatTensor lp = FloatTensor.allocate(arena, rows * vocab + 1);
            double loss = k.loss().nllForward(TestData.tensor(arena, logits), lp, targets, IGNORE, rows, vocab);
            lp.set(rows * vocab, (float) loss);
            return lp.toArray();
        }
    }

    @Property
    void forwardMatchesDoublePrecision(@ForAll @IntRange(max = 20) int rows, @ForAll("vocab") int vocab, @ForAll long seed) {
        Random r = new Random(seed);
        float[] logits = TestData.uniform(r, rows * vocab, 10f);
        int[] t = targets(r, rows, vocab);
        double[] expected = new double[rows * vocab + 1];
        for (int i = 0; i < rows; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < vocab; j++) {
                max = Math.max(max, logits[i * vocab + j]);
            }
            for (int j = 0; j < vocab; j++) {
                sum += Math.exp(logits[i * vocab + j] - max);
            }
            for (int j = 0; j < vocab; j++) {
                expected[i * vocab + j] = logits[i * vocab + j] - max - Math.log(sum);
            }
            if (t[i] != IGNORE) {
                expected[rows * vocab] -= expected[i * vocab + t[i]];
            }
        }
        for (Kernels k : new Kernels[] {UNDER_TEST, TestData.SCALAR}) {
            TestData.assertClose(k.description(), expected, forward(k, logits, t, rows, vocab), 2e-5, 2e-6);
        }
    }

    @Property
    void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 4) int rows, @ForAll @IntRange(min = 1, max = 30) int vocab,
                                          @ForAll long seed) {
        Random r = new Random(seed);
        float[] logits = TestData.uniform(r, rows * vocab, 3f);
        int[] t = targets(r, rows, vocab);
        float scale = 0.5f;
        float[] lp = forward(UNDER_TEST, logits, t, rows, vocab);
        float[] grad;
        try (Arena arena = Arena.ofShared()) {
            FloatTensor d = FloatTensor.allocate(arena, rows * vocab);
            UNDER_TEST.loss().nllBackward(TestData.tensor(arena, java.util.Arrays.copyOf(lp, rows * vocab)), t, IGNORE, scale, d, rows, vocab);
            grad = d.toArray();
        }
        FiniteDifferences.check("nll backward", logits,
                x -> scale * forward(TestData.SCALAR, x, t, rows, vocab)[rows * vocab], grad, 1e-2f, 2e-3);
        for (int i = 0; i < rows; i++) {
            if (t[i] == IGNORE) {
                for (int j = 0; j < vocab; j++) {
                    assertEquals(0f, grad[i * vocab + j], "ignored row " + i + " got a gradient");
                }
            }
        }
    }

    @Property(tries = 20)
    void resultsDoNotDependOnThreadCount(@ForAll @IntRange(min = 1, max = 300) int rows, @ForAll @IntRange(min = 1, max = 300) int vocab,
                                         @ForAll long seed) {
        Random r = new Random(seed);
        float[] logits = TestData.uniform(r, rows * vocab, 5f);
        int[] t = targets(r, rows, vocab);
        assertArrayEquals(forward(Kernels.withThreads(1), logits, t, rows, vocab), forward(Kernels.withThreads(2), logits, t, rows, vocab));
    }

    @Example
    void targetsOutsideTheVocabularyAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor x = FloatTensor.allocate(arena, 2, 5);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> UNDER_TEST.loss().nllForward(x, x, new int[] {1, 5}, IGNORE, 2, 5));
            assertTrue(e.getMessage().contains("target 5 at row 1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.loss().nllForward(x, x, new int[] {1}, IGNORE, 2, 5));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.loss().nllBackward(x, new int[] {-3, 0}, IGNORE, 1f, x, 2, 5));
            assertThrows(IllegalArgumentException.class, () -> UNDER_TEST.loss().nllBackward(x, new int[] {0, 0}, IGNORE, 1f, x, 2, 5));
        }
    }
}
