package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** T5's buckets and ALiBi's slopes against their reference implementations. */
class RelativeBiasTest {
    /**
     * {@code t5_bucket} of src/test/python/torch_reference.py (Hugging Face's
     * {@code _relative_position_bucket}) under PyTorch 1.13 for distances -300..300, run-length
     * encoded as (bucket, count) pairs; printed by
     * {@code [(b, len(list(g))) for b, g in itertools.groupby(t5_bucket(torch.arange(-300, 301), mode).tolist())]}.
     */
    private static final int[][] BIDIRECTIONAL = {{15, 210}, {14, 27}, {13, 18}, {12, 14}, {11, 9}, {10, 7}, {9, 4}, {8, 4},
        {7, 1}, {6, 1}, {5, 1}, {4, 1}, {3, 1}, {2, 1}, {1, 1}, {0, 1}, {17, 1}, {18, 1}, {19, 1}, {20, 1}, {21, 1}, {22, 1},
        {23, 1}, {24, 4}, {25, 4}, {26, 7}, {27, 9}, {28, 14}, {29, 18}, {30, 27}, {31, 210}};
    private static final int[][] CAUSAL = {{31, 188}, {30, 14}, {29, 12}, {28, 10}, {27, 10}, {26, 8}, {25, 7}, {24, 6},
        {23, 6}, {22, 5}, {21, 4}, {20, 4}, {19, 3}, {18, 3}, {17, 2}, {16, 3}, {15, 1}, {14, 1}, {13, 1}, {12, 1}, {11, 1},
        {10, 1}, {9, 1}, {8, 1}, {7, 1}, {6, 1}, {5, 1}, {4, 1}, {3, 1}, {2, 1}, {1, 1}, {0, 301}};

    @Test
    void t5BucketsAreHuggingFaces() {
        check(BIDIRECTIONAL, true);
        check(CAUSAL, false);
        // beyond the span of the dense table the bucket stays the last one, so clamping is exact
        assertEquals(RelativeBias.bucket(RelativeBias.T5_MAX_DISTANCE, true), RelativeBias.bucket(Integer.MAX_VALUE, true));
        assertEquals(RelativeBias.bucket(-RelativeBias.T5_MAX_DISTANCE, false), RelativeBias.bucket(Integer.MIN_VALUE, false));
    }

    private static void check(int[][] runs, boolean bidirectional) {
        int d = -300;
        for (int[] run : runs) {
            for (int i = 0; i < run[1]; i++, d++) {
                assertEquals(run[0], RelativeBias.bucket(d, bidirectional), "distance " + d + (bidirectional ? ", bidirectional" : ", causal"));
            }
        }
        assertEquals(301, d);
    }

    /** The paper's get_slopes: 2^(-8i/n) for a power of 2, else the closest power's and every other one of twice it. */
    @Test
    void alibiSlopesAreThePapers() {
        assertArrayEquals(new float[] {1 / 4f, 1 / 16f, 1 / 64f, 1 / 256f}, RelativeBias.alibiSlopes(4));
        assertArrayEquals(new float[] {1 / 16f, 1 / 256f, 1 / 4f}, RelativeBias.alibiSlopes(3));
        assertArrayEquals(new float[] {1 / 4f, 1 / 16f, 1 / 64f, 1 / 256f, 1 / 2f, 1 / 8f}, RelativeBias.alibiSlopes(6));
        assertArrayEquals(new float[] {1 / 256f}, RelativeBias.alibiSlopes(1));
    }
}
