package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Autoregressive generation with a key/value cache: greedy, beam search, and sampling with
 * temperature, top-k and top-p, each a loop over a {@link DecodingSession}. Sources of different
 * lengths are padded to the longest with the model's pad id. Each result holds the generated
 * tokens after the start token, up to but not including the end token (or {@code maxLength}
 * tokens when none came).
 *
 * <p>Thread-safe: calls on one model may run on many threads at once, each in a session of its
 * own (see {@link DecodingSession}), though not while the model trains.
 */
public final class Decoding {

    /** Receives each token as it is generated (greedy decoding and sampling), for streaming. */
    @FunctionalInterface
    public interface TokenListener {
        /**
         * Token {@code position} (0 for the first after the start token) of source {@code source};
         * the end token is not passed, nor anything after it.
         */
        void token(int source, int position, int token);
    }

    private static final TokenListener NONE = (source, position, token) -> { };

    /**
     * Sampling settings: logits divided by {@code temperature} (0 means greedy), then only the
     * {@code topK} most likely tokens (0: all), then only the smallest set whose probability
     * reaches {@code topP} (1: all), drawn from a stream seeded by {@code seed}.
     */
    public record Sampling(float temperature, int topK, float topP, long seed) {
        public Sampling {
            if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("topK must be >= 0, got " + topK);
            }
            if (!(topP > 0f && topP <= 1f)) {
                throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            }
        }
    }

    private Decoding() {
    }

    /** The tokens generated per row: each row collects until its end token, then ignores the rest. */
    private static final class Outputs {
        private final int eos;
        private final int[][] tokens;
        private final int[] length;
        private final boolean[] done;

        Outputs(int rows, int maxLength, int eos) {
            this.eos = eos;
            tokens = new int[rows][maxLength];
            length = new int[rows];
            done = new boolean[rows];
        }

        void add(int row, int token, TokenListener listener) {
            if (done[row]) {
                return;
            }
            if (token == eos) {
                done[row] = true;
            } else {
                listener.token(row, length[row], token);
                tokens[row][length[row]++] = token;
            }
        }

        boolean allDone() {
            for (boolean d : done) {
                if (!d) {
                    return false;
                }
            }
            return true;
        }

        int[][] result() {
            int[][] result = new int[tokens.length][];
            for (int r = 0; r < tokens.length; r++) {
                result[r] = Arrays.copyOf(tokens[r], length[r]);
            }
            return result;
        }
    }

    /** Pads sources to a (B, S) block of ids. */
    static int[] pad(int[][] sources, int padId, int s) {
        int[] src = new int[sources.length * s];
        Arrays.fill(src, padId);
        for (int b = 0; b < sources.length; b++) {
            System.arraycopy(sources[b], 0, src, b * s, sources[b].length);
        }
        return src;
    }

    /** The longest source's length; IllegalArgumentException for no sources or an empty one. */
    static int longest(int[][] sources) {
        if (sources == null || sources.length == 0) {
            throw new IllegalArgumentException("no sources to decode");
        }
        int s = 0;
        for (int[] src : sources) {
            if (src == null || src.length == 0) {
                throw new IllegalArgumentException("an empty source cannot be decoded");
            }
            s = Math.max(s, src.length);
        }
        return s;
    }

    static void checkLengths(Transformer model, int bos, int eos, int maxLength) {
        checkLengths(model, bos, eos, maxLength, false);
    }

    /** With {@code recompute}, lengths for {@link #greedyRecompute}, whose forward passes never scale positions. */
    private static void checkLengths(Transformer model, int bos, int eos, int maxLength, boolean recompute) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        TransformerConfig c = model.config();
        int limit = recompute ? c.maxPositions() : model.positionLimit();
        if (maxLength < 1 || maxLength > limit) {
            throw new IllegalArgumentException("maxLength " + maxLength + " outside [1, " + limit + "]"
                    + (maxLength > limit && !recompute ? model.options().positionScaling().hint(c) : ""));
        }
        if (bos < 0 || bos >= c.tgtVocabSize() || eos >= c.tgtVocabSize()) {
            throw new IllegalArgumentException("start token " + bos + " or end token " + eos + " outside the target vocabulary [0, "
                    + c.tgtVocabSize() + ")");
        }
    }

    private static int argmax(FloatTensor logProbs, int row, int vocab) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            float v = logProbs.get((long) row * vocab + j);
            if (v > bestValue) {
                bestValue = v;
                best = j;
            }
        }
        return best;
    }

    /** Runs the recomputing loop as one exclusive call on the model: its forward passes share the model's buffers. */
    private static int[][] held(Transformer model, String call, java.util.function.Supplier<int[][]> loop) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        model.guard.enterExclusive(call);
        try {
            return loop.get();
        } finally {
            model.guard.exitExclusive();
        }
    }

    /** Greedy decoding with the key/value cache; {@code eos < 0} means "no end token". */
    public static int[][] greedy(Transformer model, int[][] sources, int bos, int eos, int maxLength) {
        return greedy(model, sources, bos, eos, maxLength, NONE);
    }

    /** Greedy decoding that hands each token to {@code listener} as soon as it is chosen. */
    public static int[][] greedy(Transformer model, int[][] sources, int bos, int eos, int maxLength, TokenListener listener) {
        return sample(model, sources, new Sampling(0f, 0, 1f, 0), bos, eos, maxLength, listener);
    }

    /** Sampling (or greedy, at temperature 0) with the key/value cache. */
    public static int[][] sample(Transformer model, int[][] sources, Sampling sampling, int bos, int eos, int maxLength) {
        return sample(model, sources, sampling, bos, eos, maxLength, NONE);
    }

    /** Sampling that hands each token to {@code listener} as soon as it is drawn. */
    public static int[][] sample(Transformer model, int[][] sources, Sampling sampling, int bos, int eos, int maxLength,
                                 TokenListener listener) {
        return sample(model, sources, PositionIds.SEQUENTIAL, sampling, bos, eos, maxLength, listener);
    }

    /** Greedy decoding at explicit position ids, for a model trained with them (see {@link PositionIds}). */
    public static int[][] greedy(Transformer model, int[][] sources, PositionIds positions, int bos, int eos, int maxLength) {
        return sample(model, sources, positions, new Sampling(0f, 0, 1f, 0), bos, eos, maxLength, NONE);
    }

    /** Sampling at explicit position ids, for a model trained with them (see {@link PositionIds}). */
    public static int[][] sample(Transformer model, int[][] sources, PositionIds positions, Sampling sampling, int bos, int eos,
                                 int maxLength, TokenListener listener) {
        checkLengths(model, bos, eos, maxLength);
        if (positions == null) {
            throw new IllegalArgumentException("positions must not be null (PositionIds.SEQUENTIAL for 0, 1, 2, ...)");
        }
        if (sampling == null || listener == null) {
            throw new IllegalArgumentException("sampling and listener must not be null");
        }
        int b = sources == null ? 0 : sources.length, vocab = model.config().tgtVocabSize();
        SplittableRandom random = new SplittableRandom(sampling.seed());
        try (DecodingSession session = model.startPooledDecoding(sources, positions, 1, maxLength)) {
            Outputs out = new Outputs(b, maxLength, eos);
            int[] tokens = new int[b];
            Arrays.fill(tokens, bos);
            float[] probs = new float[vocab];
            int[] order = new int[vocab];
            long[] keys = new long[vocab];
            for (int pos = 0; pos < maxLength; pos++) {
                FloatTensor logProbs = session.step(tokens);
                for (int r = 0; r < b; r++) {
                    tokens[r] = sampling.temperature() == 0f ? argmax(logProbs, r, vocab)
                            : draw(logProbs, r, vocab, sampling, random, probs, order, keys);
                    out.add(r, tokens[r], listener);
                }
                if (out.allDone()) {
                    break;
                }
            }
            return out.result();
        }
    }

    /**
     * Draws a token from row {@code r} after temperature, top-k and top-p; {@code probs},
     * {@code order} and {@code keys} are scratch of the vocabulary's size.
     */
    static int draw(FloatTensor logProbs, int r, int vocab, Sampling sampling, SplittableRandom random, float[] probs,
                    int[] order, long[] keys) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, logProbs.get((long) r * vocab + j));
        }
        double total = 0;
        for (int j = 0; j < vocab; j++) {
            probs[j] = (float) Math.exp((logProbs.get((long) r * vocab + j) - max) / sampling.temperature());
            total += probs[j];
            order[j] = j;
        }
        sortByProbability(order, probs, keys, vocab);
        int keep = sampling.topK() == 0 ? vocab : Math.min(sampling.topK(), vocab);
        double kept = 0;
        for (int i = 0; i < keep; i++) {
            kept += probs[order[i]];
            if (kept >= sampling.topP() * total) {
                keep = i + 1;
                break;
            }
        }
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            sum += probs[order[i]];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            u -= probs[order[i]];
            if (u < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    /**
     * Token ids by descending probability, ties by ascending id, into {@code order}: each pair
     * packed in a long whose natural order is that order (a non-negative float's bits order as
     * the float does), so the sort is of primitives, with no object per token.
     */
    private static void sortByProbability(int[] order, float[] probs, long[] keys, int n) {
        for (int j = 0; j < n; j++) {
            // NaN (from non-finite logits) after every number, as Double.compare orders it
            keys[j] = Float.isNaN(probs[j]) ? Long.MAX_VALUE - n + j
                    : ((long) (Integer.MAX_VALUE - Float.floatToIntBits(probs[j])) << 32) | j;
        }
        Arrays.sort(keys, 0, n);
        for (int j = 0; j < n; j++) {
            order[j] = (int) keys[j];
        }
    }

    /**
     * Greedy decoding without a cache: the whole decoder runs again over the prefix at every
     * step. The reference that the cached path must reproduce token for token.
     */
    public static int[][] greedyRecompute(Transformer model, int[][] sources, int bos, int eos, int maxLength) {
        return greedyRecompute(model, sources, PositionIds.SEQUENTIAL, bos, eos, maxLength);
    }

    /** {@link #greedyRecompute(Transformer, int[][], int, int, int)} at explicit position ids. */
    public static int[][] greedyRecompute(Transformer model, int[][] sources, PositionIds positions, int bos, int eos,
                                          int maxLength) {
        return held(model, "Decoding.greedyRecompute", () -> greedyRecomputeHeld(model, sources, positions, bos, eos, maxLength));
    }

    private static int[][] greedyRecomputeHeld(Transformer model, int[][] sources, PositionIds positions, int bos, int eos,
                                               int maxLength) {
        checkLengths(model, bos, eos, maxLength, true);
        if (positions == null) {
            throw new IllegalArgumentException("positions must not be null (PositionIds.SEQUENTIAL for 0, 1, 2, ...)");
        }
        int b = sources.length, s = longest(sources), vocab = model.config().tgtVocabSize();
        int[] src = pad(sources, model.config().padId(), s);
        int[] srcPositions = positions.padded(sources, s);
        positions.checkTarget(b, maxLength, model.config().maxPositions());
        int[][] prefix = new int[b][maxLength + 1];
        for (int[] p : prefix) {
            p[0] = bos;
        }
        Outputs out = new Outputs(b, maxLength, eos);
        for (int t = 1; t <= maxLength; t++) {
            int[] tgtIn = new int[b * t];
            for (int r = 0; r < b; r++) {
                System.arraycopy(prefix[r], 0, tgtIn, r * t, t);
            }
            model.forward(Batch.inputs(b, s, t, src, tgtIn, srcPositions, positions.target(t)), false, 0);
            FloatTensor logProbs = model.logProbs();
            for (int r = 0; r < b; r++) {
                prefix[r][t] = argmax(logProbs, r * t + t - 1, vocab);
                out.add(r, prefix[r][t], NONE);
            }
            if (out.allDone()) {
                break;
            }
        }
        return out.result();
    }

    /** A hypothesis of beam search: tokens after the start token, and the sum of their log-probabilities. */
    public record Hypothesis(int[] tokens, double logProb, boolean finished) {
        /** The score beams are ranked by at the end: log-probability per token, to the power {@code alpha}. */
        public double normalized(float alpha) {
            return logProb / Math.pow(Math.max(1, tokens.length + (finished ? 1 : 0)), alpha);
        }
    }

    /**
     * Beam search of width {@code width} per source, keeping the {@code width} best partial
     * hypotheses by log-probability; finished hypotheses (ended by {@code eos}) are set aside and
     * the search stops when {@code width} of them are found or {@code maxLength} is reached. The
     * result per source is the best hypothesis by length-normalized score
     * ({@link Hypothesis#normalized}, alpha 1: mean log-probability per token).
     */
    public static int[][] beamSearch(Transformer model, int[][] sources, int width, int bos, int eos, int maxLength, float alpha) {
        return BeamSearch.run(model, sources, PositionIds.SEQUENTIAL, width, bos, eos, maxLength, alpha);
    }

    /** Beam search at explicit position ids, for a model trained with them (see {@link PositionIds}). */
    public static int[][] beamSearch(Transformer model, int[][] sources, PositionIds positions, int width, int bos, int eos,
                                     int maxLength, float alpha) {
        return BeamSearch.run(model, sources, positions, width, bos, eos, maxLength, alpha);
    }
}
