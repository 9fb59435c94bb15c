package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.MatrixBatch;
import java.lang.foreign.Arena;

/**
 * The four batched products of materialized attention at the parser task's shape (64 sequences x
 * 4 heads, 5 positions, heads of 32): scores Q Kᵀ (NT), probabilities times V (NN), and the
 * backward's dS K (NN, beta 1) and dSᵀ Q (TN, beta 1). Each is a grid of products far below
 * {@code Matmul}'s packing threshold, so this times the unpacked small-product path. Prints the
 * best of 2,000 calls of each, after two rounds of the same as warm-up.
 *
 * <pre>bench/run [--isa avx2] --main AttentionProducts</pre>
 */
public final class AttentionProducts {
    private AttentionProducts() {
    }

    public static void main(String[] args) {
        Kernels kn = Kernels.defaults();
        int b = 64, h = 4, t = 5, d = 32, c = h * d;
        try (Arena arena = Arena.ofShared()) {
            FloatTensor q = FloatTensor.allocate(arena, b * t, c), k = FloatTensor.allocate(arena, b * t, c);
            FloatTensor o = FloatTensor.allocate(arena, b * t, c), p = FloatTensor.allocate(arena, b, h, t, t);
            q.fill(0.5f);
            k.fill(0.25f);
            p.fill(0.1f);
            o.fill(0f);
            MatrixBatch qh = new MatrixBatch(q, 0, c, (long) t * c, d), kh = new MatrixBatch(k, 0, c, (long) t * c, d);
            MatrixBatch oh = new MatrixBatch(o, 0, c, (long) t * c, d), ph = new MatrixBatch(p, 0, t, (long) h * t * t, (long) t * t);
            String[] names = {"NT  Q Kᵀ, beta 0", "NN  P V, beta 0", "NN  dS K, beta 1", "TN  dSᵀ Q, beta 1"};
            System.out.println(Machine.describe());
            for (int round = 0; round < 3; round++) {
                for (int form = 0; form < names.length; form++) {
                    long best = Long.MAX_VALUE;
                    for (int call = 0; call < 2000; call++) {
                        long start = System.nanoTime();
                        switch (form) {
                            case 0 -> kn.matmul().gemmBatched(b, h, false, true, t, t, d, 0.17f, qh, kh, 0f, ph);
                            case 1 -> kn.matmul().gemmBatched(b, h, false, false, t, d, t, 1f, ph, kh, 0f, oh);
                            case 2 -> kn.matmul().gemmBatched(b, h, false, false, t, d, t, 0.17f, ph, kh, 1f, oh);
                            default -> kn.matmul().gemmBatched(b, h, true, false, t, d, t, 0.17f, ph, qh, 1f, oh);
                        }
                        best = Math.min(best, System.nanoTime() - start);
                    }
                    if (round == 2) {
                        System.out.printf("%-18s best of 2,000 calls: %.1f us%n", names[form], best / 1e3);
                    }
                }
            }
        }
    }
}
