package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.ToDoubleFunction;

/** Central finite differences of a scalar objective of float inputs, as the oracle for backward kernels. */
final class FiniteDifferences {
    private FiniteDifferences() {
    }

    /** d objective / d x[i] by (f(x + h) - f(x - h)) / 2h, for every i. */
    static double[] gradient(float[] x, ToDoubleFunction<float[]> objective, float h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = saved + h;
            double plus = objective.applyAsDouble(x);
            x[i] = saved - h;
            double minus = objective.applyAsDouble(x);
            x[i] = saved;
            g[i] = (plus - minus) / (2.0 * h);
        }
        return g;
    }

    /** Fails unless the analytic gradient is within {@code tol * (1 + |numeric|)} of the central difference. */
    static void check(String what, float[] x, ToDoubleFunction<float[]> objective, float[] analytic, float h, double tol) {
        double[] numeric = gradient(x, objective, h);
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs(analytic[i] - numeric[i]);
            if (!(err <= tol * (1 + Math.abs(numeric[i])))) {
                fail(what + ": gradient " + i + " is " + analytic[i] + ", finite differences give " + numeric[i]);
            }
        }
    }

    /** {@code sum w[i] * y[i]} in double: a scalar objective whose gradient with respect to y is w. */
    static double weighted(float[] w, float[] y) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            s += (double) w[i] * y[i];
        }
        return s;
    }
}
