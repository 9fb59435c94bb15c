package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The model's parameters in creation order, as views of one flat buffer of values (as llm.c
 * keeps them), and of one flat buffer of gradients laid out alike. Zeroing every gradient, the
 * global gradient norm, clipping and the optimizer update are then one kernel call each over
 * {@link #extent()} floats. Each parameter starts on a 64-byte boundary; the few floats of
 * padding between them stay zero in every buffer (a zero gradient leaves a zero value, moment and
 * norm unchanged).
 *
 * <p>The gradients belong to whoever trains: an open {@link Trainer} holds them in its own memory
 * from its construction to its {@code close()}, which frees them, so a model trained and then
 * served keeps its values alone. Without a trainer, the model's own {@link Transformer#backward()}
 * (a gradient check, a loop of one's own) gets a buffer of the model's, allocated by the first
 * {@link #gradients()} or {@link Parameter#grad()} and dropped when a trainer takes over. A model
 * used only for inference never allocates any.
 */
public final class Parameters {
    /** Parameters start at multiples of this many floats (64 bytes). */
    static final int ALIGN_FLOATS = 16;

    private final Arena arena;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    /** The same parameters in creation order, walked by index on every step (a map's iterator is an allocation). */
    private final List<Parameter> ordered = new ArrayList<>();

    /** At most this many floats of parameter values, checked before each one is allocated. */
    private final long maxFloats;
    private long floats;
    private long extent;
    private FloatTensor values;
    /** The gradients the parameters' views show: a trainer's, the model's own, or none. */
    private volatile FloatTensor gradients;
    /** The arena of the model's own gradients while they exist; a trainer's are in the trainer's arena. */
    private Arena ownGradients;
    /** Whether {@link #gradients} are an open trainer's. */
    private boolean attached;
    /** Set by the model's close: no gradients are made after it. */
    private boolean closed;

    Parameters(Arena arena) {
        this(arena, Long.MAX_VALUE);
    }

    /**
     * Parameters that refuse to grow past {@code maxFloats} values: a model built from a file's
     * config is never allowed more parameters than the file holds, whatever sizes the config names.
     */
    Parameters(Arena arena, long maxFloats) {
        this.arena = arena;
        this.maxFloats = maxFloats;
    }

    /** Declares a parameter; its memory comes with all the others' in {@link #allocate}. */
    Parameter create(String name, Parameter.Init init, int... shape) {
        if (values != null) {
            throw new IllegalStateException("parameter " + name + " declared after the parameters were allocated");
        }
        if (byName.containsKey(name)) {
            throw new IllegalStateException("parameter " + name + " exists already");
        }
        long n = 1;
        for (int d : shape) {
            n = d < 0 || Math.multiplyHigh(n, d) != 0 || n * d < 0 ? Long.MAX_VALUE : n * d;
        }
        if (n > maxFloats - floats) {
            throw new IllegalArgumentException("parameter " + name + " of shape " + Arrays.toString(shape)
                    + " would take the model past " + maxFloats + " parameter values");
        }
        floats += n;
        Parameter p = new Parameter(name, shape, n, init, extent, this);
        extent = Math.addExact(extent, (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS);
        byName.put(name, p);
        ordered.add(p);
        return p;
    }

    /** Allocates the flat buffer of values (zeros) once every parameter is declared. */
    void allocate() {
        values = flat(arena);
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).bindValue(values);
        }
    }

    /**
     * {@link #extent()} zeros from {@code in}, shaped (extent / 16, 16) so that more than 2^31
     * floats fit in one tensor: the layout of the values, for gradients and optimizer moments.
     */
    FloatTensor flat(Arena in) {
        long rows = Math.max(1, extent / ALIGN_FLOATS);
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(extent + " parameter floats do not fit in one buffer");
        }
        return FloatTensor.allocate(in, (int) rows, ALIGN_FLOATS);
    }

    public List<Parameter> list() {
        return Collections.unmodifiableList(new ArrayList<>(ordered));
    }

    /** The parameter at {@code index} in creation order. */
    Parameter at(int index) {
        return ordered.get(index);
    }

    /** How many parameters (tensors). */
    public int size() {
        return ordered.size();
    }

    /** The parameter of that state_dict name, or an exception listing the names. */
    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'; the model has " + byName.keySet());
        }
        return p;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The number of trainable floats. */
    public long count() {
        return floats;
    }

    /** The length of the flat buffers in floats: {@link #count()} and the padding that aligns each parameter. */
    public long extent() {
        return extent;
    }

    /** Every parameter's values, in creation order at their {@link Parameter#offset()}s. */
    public FloatTensor values() {
        if (values == null) {
            throw new IllegalStateException("the parameters are not allocated yet");
        }
        return values;
    }

    /**
     * Every parameter's gradient, laid out as {@link #values()}: an open {@link Trainer}'s, else the
     * model's own, allocated (zeros) by the first call.
     */
    public FloatTensor gradients() {
        FloatTensor g = gradients;
        if (g == null) {
            synchronized (this) {
                g = gradients;
                if (g == null) {
                    checkOpen();
                    values(); // gradients of parameters not yet allocated make no sense
                    Arena own = Arena.ofShared();
                    try {
                        g = bind(flat(own));
                    } catch (RuntimeException | Error e) {
                        own.close();
                        throw e;
                    }
                    ownGradients = own;
                }
            }
        }
        return g;
    }

    /**
     * Binds every parameter's gradient view to {@code trainerGradients} (a {@link #flat} buffer of
     * the trainer's, zeros) until {@link #detach}. The model's own gradients, if a backward pass
     * made them, are freed. One trainer at a time.
     */
    synchronized void attach(FloatTensor trainerGradients) {
        checkOpen();
        if (attached) {
            throw new IllegalStateException("another Trainer holds this model's gradients: close it before starting a new one");
        }
        freeOwn();
        attached = true;
        bind(trainerGradients);
    }

    /** Ends {@link #attach}: the parameters have no gradients until something asks again. */
    synchronized void detach(FloatTensor trainerGradients) {
        if (attached && gradients == trainerGradients) {
            attached = false;
            unbind();
        }
    }

    /** The model is closing: frees its own gradients; asking for gradients afterwards throws. */
    synchronized void close() {
        closed = true;
        freeOwn();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
    }

    /** Frees the model's own gradients (a trainer takes over, or the model closes). */
    private void freeOwn() {
        if (ownGradients != null) {
            unbind();
            ownGradients.close();
            ownGradients = null;
        }
    }

    private FloatTensor bind(FloatTensor g) {
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).bindGrad(g);
        }
        gradients = g;
        return g;
    }

    private void unbind() {
        gradients = null;
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).unbindGrad();
        }
    }

    /** Whether the parameters have gradients now: a trainer's or the model's own; never on a model only used for inference. */
    public boolean hasGradients() {
        return gradients != null;
    }

    /** Bytes of off-heap memory the values and the model's own gradients (if any) take; a trainer's gradients are the trainer's. */
    public long bytes() {
        return (values == null ? 0 : values.size() * Float.BYTES) + ownGradientBytes();
    }

    /** Bytes of the model's own gradients: 0 when there are none or they are a trainer's. */
    synchronized long ownGradientBytes() {
        return ownGradients == null || gradients == null ? 0 : gradients.size() * Float.BYTES;
    }

    /** Zeros every gradient in one pass over the flat buffer (the model's own allocated on first use, as {@link #gradients()}). */
    public void zeroGrad() {
        gradients().fill(0f);
    }

    /** Xavier uniform for matrices, zeros for biases, ones for LayerNorm gains, from one seeded stream in creation order. */
    void initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : ordered) {
            switch (p.init()) {
                case ZEROS -> p.value().fill(0f);
                case ONES -> p.value().fill(1f);
                case XAVIER -> {
                    int[] s = p.shape();
                    if (s.length != 2) {
                        throw new IllegalStateException("Xavier init needs a matrix, " + p.name() + " is " + Arrays.toString(s));
                    }
                    double a = Math.sqrt(6.0 / (s[0] + s[1]));
                    float[] v = new float[s[0] * s[1]];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) ((random.nextDouble() * 2 - 1) * a);
                    }
                    p.value().copyFrom(v);
                }
            }
        }
    }
}
