package dev.panamaformer.model;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A model's idle decoding buffers, kept from one {@link Decoding} call to the next so that
 * decoding again (a training run evaluates every few hundred steps) allocates nothing: an
 * encoder's buffers ({@link SourceEncoding}) and key/value caches ({@link DecoderCache}), each
 * taken by one call at a time and given back when it ends. A request takes the smallest idle
 * buffer it fits; where none fits, a new one of its own shape (never a blend of shapes, which
 * could be far larger than any request). At most {@link #IDLE_LIMIT} idle buffers of each kind
 * are kept, the smallest freed first.
 *
 * <p>Thread-safe: its methods are synchronized; a buffer taken belongs to its taker alone.
 */
final class DecodingBuffers implements AutoCloseable {
    /** Idle buffers kept per kind: as many as threads could decode at once on this machine. */
    static final int IDLE_LIMIT = Math.max(2, Runtime.getRuntime().availableProcessors());

    private final TransformerConfig config;
    private final int fusedAttentionFrom;
    private final ArrayDeque<SourceEncoding> encodings = new ArrayDeque<>();
    private final ArrayDeque<DecoderCache> caches = new ArrayDeque<>();
    private final AtomicLong allocated = new AtomicLong();
    private long idle;
    private boolean closed;

    DecodingBuffers(TransformerConfig config, int fusedAttentionFrom) {
        this.config = config;
        this.fusedAttentionFrom = fusedAttentionFrom;
    }

    /** Encoder buffers for {@code batch} sources of {@code length} tokens, shaped by {@link SourceEncoding#load}. */
    SourceEncoding takeEncoding(int batch, int length) {
        SourceEncoding idleOne = takeSmallest(encodings, e -> e.fits(batch, length));
        // none fits: one of this shape, allocated outside the lock (other threads' takes need not wait for it)
        return idleOne != null ? idleOne : new SourceEncoding(config, fusedAttentionFrom, batch, length, new CountingArena(allocated));
    }

    /** A cache for {@code rows} x {@code capacity} positions over sources of {@code srcLength}, reset to that shape. */
    DecoderCache takeCache(int rows, int capacity, int srcLength, long weightsVersion) {
        DecoderCache idleOne = takeSmallest(caches, c -> c.fits(rows, capacity, srcLength));
        if (idleOne == null) {
            return new DecoderCache(config, rows, capacity, srcLength, weightsVersion, new CountingArena(allocated));
        }
        idleOne.reset(rows, capacity, srcLength, weightsVersion);
        return idleOne;
    }

    /** Removes and returns the smallest idle buffer that {@code fits}, or null. */
    private synchronized <T extends DecodingBuffer> T takeSmallest(ArrayDeque<T> idleOnes, Predicate<T> fits) {
        checkOpen();
        T best = null;
        for (T t : idleOnes) {
            if (fits.test(t) && (best == null || t.bytes() < best.bytes())) {
                best = t;
            }
        }
        if (best != null) {
            idleOnes.remove(best);
            idle -= best.bytes();
        }
        return best;
    }

    /** Gives back a buffer taken here: kept for the next call, or freed when the model is closed or enough are idle. */
    synchronized void give(SourceEncoding e) {
        keep(encodings, e);
    }

    /** As {@link #give(SourceEncoding)}, for a cache. */
    synchronized void give(DecoderCache c) {
        c.positions.scaled = null; // a scaling session's tables go with it
        keep(caches, c);
    }

    /** Bytes of the idle buffers. */
    synchronized long idleBytes() {
        return idle;
    }

    /** Bytes allocated for decoding buffers since the model was made. */
    synchronized long allocatedBytes() {
        return allocated.get();
    }

    /** Keeps {@code buffer} idle; where {@link #IDLE_LIMIT} are idle already, the smallest of them all is freed. */
    private <T extends DecodingBuffer> void keep(ArrayDeque<T> idleOnes, T buffer) {
        if (closed) {
            buffer.close();
            return;
        }
        idleOnes.push(buffer);
        idle += buffer.bytes();
        if (idleOnes.size() > IDLE_LIMIT) {
            T smallest = buffer;
            for (T t : idleOnes) {
                if (t.bytes() < smallest.bytes()) {
                    smallest = t;
                }
            }
            idleOnes.remove(smallest);
            idle -= smallest.bytes();
            smallest.close();
        }
    }

    /** What both kinds of buffer are to the pool: memory of their own arena, freed by {@code close}. */
    interface DecodingBuffer extends AutoCloseable {
        /** Bytes allocated in the buffer's arena. */
        long bytes();

        @Override
        void close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
    }

    /** Frees the idle buffers; buffers given back later are freed then. */
    @Override
    public synchronized void close() {
        closed = true;
        for (SourceEncoding e : encodings) {
            e.close();
        }
        for (DecoderCache c : caches) {
            c.close();
        }
        encodings.clear();
        caches.clear();
        idle = 0;
    }
}
