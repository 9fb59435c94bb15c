package dev.panamaformer.bench;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.Random;

/**
 * The best time of one GEMM shape and form over a few seconds, on one thread: a plain loop,
 * beside {@code bench/pytorch/numpy_gemm.py}, which does the same with OpenBLAS through numpy.
 * A best-of loop on each side compares what each can do on a machine whose noise swamps JMH's
 * means (its error bars reached 40 % of the GEMM 1024³ here).
 *
 * <pre>bench/run [--isa avx2] --main GemmBest FORM M K N [seconds] [threads] [beta]     # FORM: NN, NT, TN</pre>
 *
 * <p>With beta 1 the product adds into C, as the gradients of a training step do (C = A B + C).
 */
public final class GemmBest {
    private GemmBest() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: GemmBest NN|NT|TN M K N [seconds] [threads] [beta]");
            System.exit(2);
        }
        boolean ta = args[0].charAt(0) == 'T', tb = args[0].charAt(1) == 'T';
        int m = Integer.parseInt(args[1]), k = Integer.parseInt(args[2]), n = Integer.parseInt(args[3]);
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 3;
        Kernels kernels = Kernels.withThreads(args.length > 5 ? Integer.parseInt(args[5]) : 1);
        float beta = args.length > 6 ? Float.parseFloat(args[6]) : 0f;
        Arena arena = Arena.ofAuto();
        FloatTensor a = FloatTensor.allocate(arena, ta ? k : m, ta ? m : k);
        FloatTensor b = FloatTensor.allocate(arena, tb ? n : k, tb ? k : n);
        FloatTensor c = FloatTensor.allocate(arena, m, n);
        Random random = new Random(1);
        for (long i = 0; i < a.size(); i++) {
            a.set(i, random.nextFloat());
        }
        for (long i = 0; i < b.size(); i++) {
            b.set(i, random.nextFloat());
        }
        double flops = 2.0 * m * n * k;
        int reps = Math.max(1, (int) (2e10 / flops));
        double best = Double.MAX_VALUE;
        for (long end = System.nanoTime() + (long) (seconds * 1e9); System.nanoTime() < end; ) {
            long t = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                kernels.matmul().gemm(ta, tb, m, n, k, 1f, a, b, beta, c);
            }
            best = Math.min(best, (System.nanoTime() - t) / (double) reps);
        }
        System.out.printf("%s %dx%dx%d%s: best %.1f us, %.1f GFLOPS (%s)%n", args[0], m, k, n,
                beta == 0f ? "" : ", beta " + beta, best / 1e3, flops / best, kernels.description());
    }
}
