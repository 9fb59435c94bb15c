package dev.panamaformer.model;

import dev.panamaformer.kernels.Kernels;

/**
 * How a model runs, as opposed to what it is ({@link TransformerConfig}): the kernels (SIMD or
 * scalar, and their thread count), the length from which attention takes the fused kernel, and
 * how decoding reaches past the trained positions. None of it changes the function the model
 * computes within its trained positions beyond float rounding, so none of it is stored in
 * checkpoints: a model saved on one machine loads with the options of another.
 *
 * @param kernels            the kernels every layer calls
 * @param fusedAttentionFrom attention over this many keys or more takes the fused kernel (no
 *                           (T, T) score matrix); shorter attention materializes its scores. 1
 *                           always fuses; {@link Integer#MAX_VALUE} never does
 * @param positionScaling    how decoding sessions treat positions past the trained length
 *                           ({@link PositionScaling#NONE}: not at all)
 */
public record RunOptions(Kernels kernels, int fusedAttentionFrom, PositionScaling positionScaling) {

    /**
     * The default of {@link #fusedAttentionFrom}, from bench/AttentionBenchmark (bench/README.md:
     * one sequence, 8 heads of 64, 2 threads, forward plus backward): the fused path was 1.33x and
     * 1.39x faster at 32 and 64 keys, 1.23x at 128 and 512, 1.15x at 1024 and 1.21x at 4096, where
     * it needs 17 MiB instead of the materialized path's 2.5 GiB per layer. Shorter attention (the
     * worked examples' 3 to 20 tokens) stays materialized.
     */
    public static final int DEFAULT_FUSED_ATTENTION_FROM = 32;

    public RunOptions {
        if (kernels == null) {
            throw new IllegalArgumentException("kernels must not be null");
        }
        if (fusedAttentionFrom < 1) {
            throw new IllegalArgumentException("fusedAttentionFrom must be at least 1, got " + fusedAttentionFrom);
        }
        if (positionScaling == null) {
            throw new IllegalArgumentException("positionScaling must not be null; use PositionScaling.NONE");
        }
    }

    /** Options without position scaling. */
    public RunOptions(Kernels kernels, int fusedAttentionFrom) {
        this(kernels, fusedAttentionFrom, PositionScaling.NONE);
    }

    /** {@link Kernels#defaults()} and {@link #DEFAULT_FUSED_ATTENTION_FROM}. */
    public static RunOptions defaults() {
        return new RunOptions(Kernels.defaults(), DEFAULT_FUSED_ATTENTION_FROM);
    }

    public RunOptions withKernels(Kernels kernels) {
        return new RunOptions(kernels, fusedAttentionFrom, positionScaling);
    }

    /** These options with attention over {@code keys} keys or more taking the fused kernel. */
    public RunOptions withFusedAttentionFrom(int keys) {
        return new RunOptions(kernels, keys, positionScaling);
    }

    /** These options with decoding sessions scaling positions past the trained length as {@code scaling} says. */
    public RunOptions withPositionScaling(PositionScaling scaling) {
        return new RunOptions(kernels, fusedAttentionFrom, scaling);
    }
}
