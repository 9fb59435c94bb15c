package dev.panamaformer.kernels;

import java.util.Arrays;

/** Argument checks shared by the public kernel facades; each names the shapes it rejects. */
final class Checks {
    private Checks() {
    }

    // Messages are built only on failure: these checks run on every kernel call, which must not
    // allocate, and string building in them would also crowd the kernels out of C2's inlining budget.

    static void nonNegative(String op, String what, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(op + ": " + what + " must not be negative, got " + value);
        }
    }

    /** {@code t} is alive and holds at least a (rows, cols) matrix. */
    static void matrix(FloatTensor t, String op, String name, int rows, int cols) {
        long needed = (long) rows * cols;
        if (t == null || !t.isAlive() || t.size() < needed) {
            fail(t, op, name, needed, "(" + rows + ", " + cols + ")");
        }
    }

    /** {@code t} is alive and holds at least a vector of {@code n} elements. */
    static void vector(FloatTensor t, String op, String name, long n) {
        if (t == null || !t.isAlive() || t.size() < n) {
            fail(t, op, name, n, "(" + n + ")");
        }
    }

    private static void fail(FloatTensor t, String op, String name, long needed, String layout) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        t.checkAlive(op + ": " + name);
        throw new IllegalArgumentException(op + ": " + name + " of shape " + Arrays.toString(t.shape()) + " (" + t.size()
                + " elements) is too small for " + layout + " (" + needed + " elements)");
    }

    // Shape-reading forms of the facades: dimensions come from the tensors, and a tensor whose
    // shape does not fit is named with the shape it has and the one it needs.

    /** The rows of {@code t} read as a matrix: the product of every dimension but the last. */
    static int rows(FloatTensor t, String op, String name) {
        alive(t, op, name);
        int[] s = t.shape();
        if (s.length < 2) {
            throw new IllegalArgumentException(op + ": " + name + " of shape " + Arrays.toString(s)
                    + " is not a matrix (it needs two dimensions or more: rows x the last one)");
        }
        long rows = 1;
        for (int i = 0; i < s.length - 1; i++) {
            rows *= s[i]; // a tensor holds at most 2^63 bytes: no overflow
        }
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + name + " of shape " + Arrays.toString(s) + " has more than 2^31-1 rows");
        }
        return (int) rows;
    }

    /** The columns of {@code t} read as a matrix: its last dimension. */
    static int cols(FloatTensor t) {
        int[] s = t.shape();
        return s[s.length - 1];
    }

    /** {@code t} is alive, and not null. */
    static void alive(FloatTensor t, String op, String name) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        t.checkAlive(op + ": " + name);
    }

    /** {@code b} has the shape of {@code a}. */
    static void sameShape(String op, FloatTensor a, String aName, FloatTensor b, String bName) {
        alive(a, op, aName);
        alive(b, op, bName);
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": " + bName + " of shape " + Arrays.toString(b.shape()) + " does not match "
                    + aName + " of shape " + Arrays.toString(a.shape()));
        }
    }

    /** {@code t} is a (rows, cols) matrix, any leading dimensions counting as rows. */
    static void matrixShape(String op, FloatTensor t, String name, int rows, int cols, String why) {
        if (rows(t, op, name) != rows || cols(t) != cols) {
            throw new IllegalArgumentException(op + ": " + name + " of shape " + Arrays.toString(t.shape()) + " should be ("
                    + rows + ", " + cols + ")" + why);
        }
    }

    /** {@code t} is a vector of {@code n} elements (of any shape holding exactly n). */
    static void vectorShape(String op, FloatTensor t, String name, long n, String why) {
        alive(t, op, name);
        if (t.size() != n) {
            throw new IllegalArgumentException(op + ": " + name + " of shape " + Arrays.toString(t.shape()) + " should hold "
                    + n + " elements" + why);
        }
    }

    static void rowsCols(String op, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(op + ": rows and cols must not be negative, got (" + rows + ", " + cols + ")");
        }
    }

    /** A kernel that writes {@code out} while reading {@code in} needs them to be the same memory or apart. */
    static void sameOrDisjoint(FloatTensor in, String inName, FloatTensor out, String outName) {
        long a = in.segment().address(), b = out.segment().address();
        long aEnd = a + in.segment().byteSize(), bEnd = b + out.segment().byteSize();
        boolean overlap = a < bEnd && b < aEnd;
        if (overlap && !(a == b && in.size() == out.size())) {
            throw new IllegalArgumentException(outName + " " + out + " partly overlaps " + inName + " " + in);
        }
    }

    /** {@code out} must not share any memory with {@code in}. */
    static void disjoint(FloatTensor in, String inName, FloatTensor out, String outName) {
        long a = in.segment().address(), b = out.segment().address();
        if (in.size() > 0 && out.size() > 0 && a < b + out.segment().byteSize() && b < a + in.segment().byteSize()) {
            throw new IllegalArgumentException(outName + " " + out + " overlaps " + inName + " " + in);
        }
    }

    static void probability(String op, String what, float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(op + ": " + what + " must be in [0, 1), got " + p);
        }
    }
}
