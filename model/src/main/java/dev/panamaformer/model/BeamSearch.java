package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The loop of {@link Decoding#beamSearch} over a {@link DecodingSession}, and the candidates it ranks. */
final class BeamSearch {
    private BeamSearch() {
    }

    /** See {@link Decoding#beamSearch}. */
    static int[][] run(Transformer model, int[][] sources, PositionIds positions, int width, int bos, int eos, int maxLength,
                       float alpha) {
        Decoding.checkLengths(model, bos, eos, maxLength);
        if (width < 1) {
            throw new IllegalArgumentException("beam width must be at least 1, got " + width);
        }
        int b = sources == null ? 0 : sources.length, vocab = model.config().tgtVocabSize(), rows = b * width;
        List<List<Decoding.Hypothesis>> finished = new ArrayList<>();
        List<List<Decoding.Hypothesis>> alive = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            finished.add(new ArrayList<>());
            List<Decoding.Hypothesis> start = new ArrayList<>();
            start.add(new Decoding.Hypothesis(new int[0], 0, false));
            alive.add(start);
        }
        try (DecodingSession session = model.startPooledDecoding(sources, positions, width, maxLength)) {
            int[] tokens = new int[rows];
            Arrays.fill(tokens, bos);
            int[] parents = new int[rows];
            // the best candidates of a source, best first: at most width end tokens and width others are ever taken
            Candidates best = new Candidates(2 * width);
            for (int pos = 0; pos < maxLength; pos++) {
                FloatTensor logProbs = session.step(tokens);
                boolean any = false;
                for (int src = 0; src < b; src++) {
                    List<Decoding.Hypothesis> beams = alive.get(src);
                    best.clear();
                    for (int j = 0; j < beams.size(); j++) {
                        int row = src * width + j;
                        double base = beams.get(j).logProb();
                        for (int v = 0; v < vocab; v++) {
                            best.offer(base + logProbs.get((long) row * vocab + v), (long) j * vocab + v);
                        }
                    }
                    List<Decoding.Hypothesis> next = new ArrayList<>();
                    for (int c = 0; c < best.size(); c++) {
                        if (next.size() == width || finished.get(src).size() >= width) {
                            break;
                        }
                        int beam = (int) (best.index(c) / vocab), token = (int) (best.index(c) % vocab);
                        Decoding.Hypothesis parent = beams.get(beam);
                        if (token == eos) {
                            finished.get(src).add(new Decoding.Hypothesis(parent.tokens(), best.score(c), true));
                            continue;
                        }
                        int[] t = Arrays.copyOf(parent.tokens(), parent.tokens().length + 1);
                        t[t.length - 1] = token;
                        int row = src * width + next.size();
                        parents[row] = src * width + beam;
                        tokens[row] = token;
                        next.add(new Decoding.Hypothesis(t, best.score(c), false));
                    }
                    if (finished.get(src).size() >= width) {
                        next.clear();
                    }
                    for (int j = next.size(); j < width; j++) {
                        parents[src * width + j] = src * width;
                        tokens[src * width + j] = bos;
                    }
                    alive.set(src, next);
                    any |= !next.isEmpty();
                }
                if (!any || pos + 1 == maxLength) {
                    break;
                }
                session.reorder(parents);
            }
        }
        int[][] result = new int[b][];
        for (int src = 0; src < b; src++) {
            List<Decoding.Hypothesis> all = new ArrayList<>(finished.get(src));
            all.addAll(alive.get(src));
            Decoding.Hypothesis best = all.get(0);
            for (Decoding.Hypothesis h : all) {
                if (Double.compare(h.normalized(alpha), best.normalized(alpha)) > 0) { // the first of equals, as before
                    best = h;
                }
            }
            result[src] = best.tokens();
        }
        return result;
    }

    /**
     * The {@code capacity} best (score, index) pairs offered so far, best first: higher score,
     * then lower index. Primitive arrays, kept sorted by insertion: a beam step offers beams x
     * vocabulary candidates and keeps a few, without an object per candidate.
     */
    private static final class Candidates {
        private final double[] scores;
        private final long[] indices;
        private int size;

        Candidates(int capacity) {
            scores = new double[capacity];
            indices = new long[capacity];
        }

        void clear() {
            size = 0;
        }

        int size() {
            return size;
        }

        double score(int i) {
            return scores[i];
        }

        long index(int i) {
            return indices[i];
        }

        /** Higher score first, then lower index; NaN after every number, as {@link Double#compare} orders it. */
        private static boolean before(double s, long i, double otherScore, long otherIndex) {
            int c = Double.compare(-s, -otherScore);
            return c < 0 || (c == 0 && i < otherIndex);
        }

        void offer(double score, long index) {
            if (size == scores.length && !before(score, index, scores[size - 1], indices[size - 1])) {
                return;
            }
            int at = size == scores.length ? size - 1 : size++;
            while (at > 0 && before(score, index, scores[at - 1], indices[at - 1])) {
                scores[at] = scores[at - 1];
                indices[at] = indices[at - 1];
                at--;
            }
            scores[at] = score;
            indices[at] = index;
        }
    }
}
