package dev.panamaformer.bench;

import java.util.Random;

/**
 * One GEMM benchmark case: a product (m, k) · (k, n) named "MxKxN", in one of the transposed
 * forms a linear layer y = x·Wᵀ (W stored (out, in)) uses. Every form computes a product of the
 * same (m, k, n); only the storage of A and B differs:
 * <ul>
 *   <li>"NT", forward: y (m, n) = x (m, k) · Wᵀ, W stored (n, k);</li>
 *   <li>"NN", backward to the input: dx (m, n) = dy (m, k) · W, W stored (k, n);</li>
 *   <li>"TN", backward to the weight: dW (m, n) = dyᵀ · x, dy stored (k, m), x stored (k, n).</li>
 * </ul>
 * Matrices are row-major, dense, filled with uniform values in [-1, 1) from a fixed seed.
 */
record GemmCase(int m, int k, int n, boolean transA, boolean transB) {
    static GemmCase of(String shape, String form) {
        String[] mkn = shape.split("x");
        if (mkn.length != 3) {
            throw new IllegalArgumentException("shape must read MxKxN, got '" + shape + "'");
        }
        boolean transA, transB;
        switch (form) {
            case "NN" -> { transA = false; transB = false; }
            case "NT" -> { transA = false; transB = true; }
            case "TN" -> { transA = true; transB = false; }
            default -> throw new IllegalArgumentException("form must be NN, NT or TN, got '" + form + "'");
        }
        return new GemmCase(Integer.parseInt(mkn[0]), Integer.parseInt(mkn[1]), Integer.parseInt(mkn[2]), transA, transB);
    }

    /** Row-major leading dimension of A as stored: (k, m) when transposed, else (m, k). */
    int lda() {
        return transA ? m : k;
    }

    /** Row-major leading dimension of B as stored: (n, k) when transposed, else (k, n). */
    int ldb() {
        return transB ? k : n;
    }

    /** Floating-point operations of one product: 2·m·n·k. */
    double flops() {
        return 2.0 * m * n * k;
    }

    float[] randomA() {
        return random(new Random(42), m * k);
    }

    float[] randomB() {
        return random(new Random(43), k * n);
    }

    private static float[] random(Random random, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = random.nextFloat() * 2f - 1f;
        }
        return v;
    }
}
