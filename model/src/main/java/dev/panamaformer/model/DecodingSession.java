package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;

/**
 * One incremental decoding of a batch of sources, position by position, with a key/value cache:
 * feed one token per row, read the log-probabilities of the next, pick, repeat. Greedy decoding,
 * sampling and beam search ({@link Decoding}) are loops over this class; a caller can write its
 * own (constrained decoding, streaming to a client, scoring given targets).
 *
 * <pre>{@code
 * try (DecodingSession session = model.startDecoding(sources, 1, maxLength)) {
 *     int[] tokens = {bos, bos};                       // one row per source
 *     for (int pos = 0; pos < maxLength; pos++) {
 *         FloatTensor logProbs = session.step(tokens); // (rows, vocabulary)
 *         ... choose tokens[r] from row r ...
 *     }
 * }
 * }</pre>
 *
 * <p>The rows are {@code sources x beams}: row {@code s * beams + j} is hypothesis j of source s.
 * The sources are encoded once, when the session starts; every row of one source shares them.
 *
 * <p>Thread safety: a session is used by one thread at a time. Sessions on one model may run on
 * many threads at once (each has its own cache and buffers and only reads the weights), as a
 * server would run one per request; none may run while the model trains or runs
 * {@link Transformer#forward} (the model refuses the overlap with an IllegalStateException).
 */
public final class DecodingSession implements AutoCloseable {
    /** Frees the caches of sessions that became unreachable without {@link #close()}. */
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    private final Transformer model;
    private final DecoderCache cache;
    private final int sources;
    private final int beams;
    private final int vocab;
    private final java.lang.ref.Cleaner.Cleanable cleanable;
    private int position;
    private boolean stepped;
    private boolean closed;

    /** {@code release} frees or gives back the cache, once; it must not hold the session. */
    DecodingSession(Transformer model, DecoderCache cache, int sources, int beams, Runnable release) {
        this.model = model;
        this.cache = cache;
        this.sources = sources;
        this.beams = beams;
        this.vocab = model.config().tgtVocabSize();
        // a session forgotten without close() still frees its cache once collected: a server
        // that loses one per failed request must not lose its memory for good (the action holds
        // the cache, never the session)
        this.cleanable = CLEANER.register(this, release);
    }

    /** The rows fed and scored at each step: sources x beams. */
    public int rows() {
        return cache.rows;
    }

    public int sources() {
        return sources;
    }

    public int beams() {
        return beams;
    }

    /**
     * The step the next {@link #step} feeds: the number of steps taken (its position id is this
     * plus the row's target start, see {@link PositionIds}).
     */
    public int position() {
        return position;
    }

    /** The most positions this session can feed. */
    public int capacity() {
        return cache.capacity;
    }

    /** The target vocabulary: the width of each row of log-probabilities. */
    public int vocabularySize() {
        return vocab;
    }

    /**
     * Feeds {@code tokens[r]} to row r at {@link #position()} and returns the log-probabilities of
     * the next token, (rows, vocabulary), valid until the next step or {@link #close()}. Token ids
     * outside the vocabulary, a wrong count or a full cache throw IllegalArgumentException and
     * change nothing.
     */
    public FloatTensor step(int... tokens) {
        checkOpen();
        if (tokens == null || tokens.length != cache.rows) {
            throw new IllegalArgumentException("step needs one token per row: " + cache.rows + " (" + sources + " sources x "
                    + beams + " beams), got " + (tokens == null ? "null" : tokens.length));
        }
        if (position >= cache.capacity) {
            throw new IllegalArgumentException("the session is full: it was started for " + cache.capacity + " positions");
        }
        FloatTensor logProbs = model.decodeStep(cache, tokens, position);
        position++;
        stepped = true;
        return logProbs;
    }

    /** The log-probability of {@code token} after row {@code row}'s last step. */
    public float logProb(int row, int token) {
        checkOpen();
        if (!stepped) {
            throw new IllegalStateException("no step yet");
        }
        if (row < 0 || row >= cache.rows || token < 0 || token >= vocab) {
            throw new IllegalArgumentException("row " + row + " or token " + token + " outside [0, " + cache.rows + ") x [0, "
                    + vocab + ")");
        }
        return cache.logProbs.get((long) row * vocab + token);
    }

    /**
     * Beam search: from now on row r continues the hypothesis of row {@code parents[r]}, which
     * must belong to the same source; the cached positions follow. Call between steps.
     */
    public void reorder(int... parents) {
        checkOpen();
        if (parents == null || parents.length != cache.rows) {
            throw new IllegalArgumentException("reorder needs one parent per row: " + cache.rows + ", got "
                    + (parents == null ? "null" : parents.length));
        }
        for (int r = 0; r < parents.length; r++) {
            if (parents[r] < 0 || parents[r] >= cache.rows || parents[r] / beams != r / beams) {
                throw new IllegalArgumentException("row " + r + " of source " + r / beams + " cannot continue row " + parents[r]
                        + ": a parent must be a row of the same source, in [" + (r / beams) * beams + ", " + (r / beams + 1) * beams
                        + ")");
            }
        }
        cache.reorder(parents, position);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the decoding session is closed");
        }
    }

    /**
     * Frees the cache; the model stays open. A session that is never closed is freed when the
     * collector finds it unreachable, which may be late: close sessions (try-with-resources).
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cleanable.clean(); // releases the cache, at most once
        }
    }
}
