package dev.panamaformer.kernels;

/**
 * Rotary position embeddings (RoPE, Su et al. 2021): each head's query or key at position m
 * turns, pair by pair, by the angles m θ_i, θ_i = base^(-2i / headSize), so the product of a query
 * at m and a key at n depends on m - n only. Pairs in the "rotate half" layout of GPT-NeoX and
 * Hugging Face's LLaMA: element i of a head with element i + headSize / 2. Rows are split across
 * threads; the angles come from a {@link RotaryTable}.
 */
public final class Rotary {
    private final RotaryKernel kernel;
    private final Parallel parallel;

    Rotary(RotaryKernel kernel, Parallel parallel) {
        this.kernel = kernel;
        this.parallel = parallel;
    }

    /**
     * {@code y = R(positions[r]) x} for each row r of x (rows, heads * table.headSize()); with
     * {@code inverse}, the transpose {@code R(positions[r])ᵀ}: the rotation's backward pass
     * ({@code dx = Rᵀ dy}, which it undoes). y may be x. A position outside the table, a head
     * size other than the table's, or tensors smaller than (rows, heads * headSize) throw an
     * IllegalArgumentException naming them.
     */
    public void rotate(FloatTensor x, FloatTensor y, int rows, int heads, int[] positions, RotaryTable table, boolean inverse) {
        String op = inverse ? "rotary (inverse)" : "rotary";
        if (table == null || positions == null) {
            throw new IllegalArgumentException(op + ": table and positions must not be null");
        }
        if (rows < 0 || heads < 1) {
            throw new IllegalArgumentException(op + ": rows must be >= 0 and heads >= 1, got " + rows + " and " + heads);
        }
        int headSize = table.headSize();
        long width = (long) heads * headSize;
        if (width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + heads + " heads of " + headSize + " are too wide");
        }
        Checks.matrix(x, op, "x", rows, (int) width);
        Checks.matrix(y, op, "y", rows, (int) width);
        Checks.sameOrDisjoint(x, "x", y, "y");
        Checks.alive(table.cos(), op, "table cos");
        Checks.alive(table.sin(), op, "table sin");
        if (positions.length < rows) {
            throw new IllegalArgumentException(op + ": " + positions.length + " positions for " + rows + " rows");
        }
        for (int r = 0; r < rows; r++) {
            if (positions[r] < 0 || positions[r] >= table.positions()) {
                throw new IllegalArgumentException(op + ": row " + r + " is at position " + positions[r]
                        + ", outside the table's [0, " + table.positions() + ")");
            }
        }
        Parallel par = parallel.over(x, y);
        if (par.parts(rows, width) == 1) {
            kernel.rotate(x.segment(), y.segment(), 0, rows, heads, headSize, positions, table.cos().segment(),
                    table.sin().segment(), inverse);
        } else {
            par.forRange(rows, width, (from, to) -> kernel.rotate(x.segment(), y.segment(), from, to, heads, headSize, positions,
                    table.cos().segment(), table.sin().segment(), inverse));
        }
    }
}
