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

/** The model's parameters in creation order, with their gradients, in memory the model owns. */
public final class Parameters {
    private final Arena arena;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    /** The same parameters in creation order, walked by index on every step (a map's iterator is an allocation). */
    private final List<Parameter> ordered = new ArrayList<>();

    /** At most this many floats of parameter values, checked before each one is allocated. */
    private final long maxFloats;
    private long floats;

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

    Parameter create(String name, Parameter.Init init, int... shape) {
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
        Parameter p = new Parameter(name, FloatTensor.allocate(arena, shape), FloatTensor.allocate(arena, shape), init);
        byName.put(name, p);
        ordered.add(p);
        return p;
    }

    public List<Parameter> list() {
        return Collections.unmodifiableList(new ArrayList<>(ordered));
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

    public void zeroGrad() {
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).grad().fill(0f);
        }
    }

    /** Xavier uniform for matrices, zeros for biases, ones for LayerNorm gains, from one seeded stream in creation order. */
    void initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : byName.values()) {
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
