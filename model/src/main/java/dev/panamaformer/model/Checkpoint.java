package dev.panamaformer.model;

import dev.panamaformer.kernels.Kernels;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * A model's parameters and config in one safetensors file: tensors under their PyTorch
 * state_dict names, the config as JSON in the header's metadata. Saving is atomic; loading
 * checks the whole file against the model before it changes a single parameter.
 */
public final class Checkpoint {
    static final String FORMAT = "panamaformer-1";

    private Checkpoint() {
    }

    /** Writes every parameter and the config; a previous file at {@code path} stays intact until the new one is complete. */
    public static void save(Transformer model, Path path) throws IOException {
        save(model, path, java.util.Map.of());
    }

    /**
     * As {@link #save(Transformer, Path)}, with more string metadata (e.g. which task the model
     * learned), written in key order: the same weights and metadata give the same file.
     */
    public static void save(Transformer model, Path path, java.util.Map<String, String> metadata) throws IOException {
        SafeTensors.Writer w = new SafeTensors.Writer()
                .metadata("format", FORMAT)
                .metadata("config", model.config().toJson());
        // sorted: a Map.of iterates in an order drawn per JVM, and the same model should give the same bytes
        new java.util.TreeMap<>(metadata).forEach(w::metadata);
        // the weights are read as decoding reads them: beside decoding sessions, never beside a training step
        model.guard.enterShared("Checkpoint.save");
        try {
            for (Parameter p : model.parameters().list()) {
                w.floats(p.name(), p.value().toArray(), p.shape());
            }
        } finally {
            model.guard.exitShared();
        }
        w.write(path);
    }

    /** The string metadata stored in a checkpoint (format, config and whatever the saver added). */
    public static java.util.Map<String, String> metadata(Path path) throws IOException {
        try (SafeTensors f = open(path)) {
            config(path, f);
            return f.metadata();
        }
    }

    /** The config stored in a checkpoint. */
    public static TransformerConfig config(Path path) throws IOException {
        try (SafeTensors f = open(path)) {
            return config(path, f);
        }
    }

    /** A new model built from the checkpoint's config, holding its parameters. */
    public static Transformer load(Path path) throws IOException {
        return load(path, RunOptions.defaults());
    }

    /** A new model that runs on {@code kernels}, the other {@link RunOptions} at their defaults. */
    public static Transformer load(Path path, Kernels kernels) throws IOException {
        return load(path, RunOptions.defaults().withKernels(kernels));
    }

    /** A new model built from the checkpoint's config, holding its parameters, that runs with {@code options}. */
    public static Transformer load(Path path, RunOptions options) throws IOException {
        try (SafeTensors f = open(path)) {
            TransformerConfig config = config(path, f);
            // the model may hold no more parameter values than the file does: a config that names
            // larger sizes (4096 wide, 100,000 layers) is refused before it is allocated, not after
            long stored = 0;
            for (SafeTensors.Entry e : f.entries().values()) {
                stored += e.dtype().equals("F32") ? e.elements() : 0;
            }
            Transformer model;
            try {
                model = new Transformer(config, 0, options, stored);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(path + ": its config does not fit the " + stored
                        + " parameter values the file holds: " + e.getMessage());
            }
            try {
                copy(path, f, model);
                return model;
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }

    /**
     * Loads the parameters into an existing model, whose config must equal the checkpoint's. Like
     * a training step it needs the model to itself (an IllegalStateException while another thread
     * uses it), and decoding sessions started before it refuse to go on.
     */
    public static void loadInto(Transformer model, Path path) throws IOException {
        try (SafeTensors f = open(path)) {
            TransformerConfig stored = config(path, f);
            if (!stored.equals(model.config())) {
                throw new CheckpointException(path + " was made for another model: checkpoint config " + stored.toJson()
                        + ", model config " + model.config().toJson());
            }
            model.guard.enterExclusive("Checkpoint.loadInto");
            try {
                copy(path, f, model);
            } finally {
                model.weightsChanged(); // even a copy that failed half way may have changed some
                model.guard.exitExclusive();
            }
        }
    }

    private static SafeTensors open(Path path) throws IOException {
        try {
            return SafeTensors.open(path);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("no checkpoint at " + path);
        }
    }

    private static TransformerConfig config(Path path, SafeTensors f) {
        String format = f.metadata().get("format");
        if (!FORMAT.equals(format)) {
            throw new CheckpointException(path + " is not a Panamaformer checkpoint (format " + format + ", expected " + FORMAT + ")");
        }
        String json = f.metadata().get("config");
        if (json == null) {
            throw new CheckpointException(path + " has no config in its metadata");
        }
        try {
            TransformerConfig config = TransformerConfig.fromJson(json);
            noteRetiredKeys(path, json);
            return config;
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(path + " has an invalid config: " + e.getMessage());
        }
    }

    /** Says, on each load, that a key earlier versions wrote is ignored now (a note, not a warning: nothing is lost). */
    private static void noteRetiredKeys(Path path, String json) {
        if (Json.parse(json) instanceof java.util.Map<?, ?> m) {
            for (String key : TransformerConfig.RETIRED_KEYS) {
                if (m.containsKey(key)) {
                    System.getLogger(Checkpoint.class.getName()).log(System.Logger.Level.INFO, path + ": config key '" + key
                            + "' of an earlier version is ignored; it is a run option now (RunOptions)");
                }
            }
        }
    }

    /** Checks names, dtypes and shapes of every tensor first, then copies. */
    private static void copy(Path path, SafeTensors f, Transformer model) {
        TreeSet<String> expected = new TreeSet<>(), stored = new TreeSet<>(f.entries().keySet());
        for (Parameter p : model.parameters().list()) {
            expected.add(p.name());
        }
        if (!expected.equals(stored)) {
            TreeSet<String> missing = new TreeSet<>(expected), extra = new TreeSet<>(stored);
            missing.removeAll(stored);
            extra.removeAll(expected);
            throw new CheckpointException(path + " does not fit the model: missing " + some(missing) + ", unexpected " + some(extra));
        }
        for (Parameter p : model.parameters().list()) {
            SafeTensors.Entry e = f.entry(p.name());
            if (!e.dtype().equals("F32") || !Arrays.equals(e.shape(), p.shape())) {
                throw new CheckpointException(path + ": " + p.name() + " is " + e.dtype() + Arrays.toString(e.shape())
                        + ", the model needs F32" + Arrays.toString(p.shape()));
            }
        }
        // every value checked in the file before the first parameter changes
        for (Parameter p : model.parameters().list()) {
            long bad = f.firstNonFinite(p.name());
            if (bad >= 0) {
                throw new CheckpointException(path + ": " + p.name() + " holds " + f.floatAt(p.name(), bad) + " at index " + bad
                        + "; a trained model's weights are finite (was it saved from a run that diverged?)");
            }
        }
        for (Parameter p : model.parameters().list()) {
            p.value().copyFrom(f.floats(p.name()));
        }
    }

    /** At most ten names of a set, and how many more: a header with 300,000 tensors makes a message, not a page. */
    static String some(java.util.SortedSet<String> names) {
        if (names.size() <= 10) {
            return names.toString();
        }
        return "[" + String.join(", ", names.stream().limit(10).toList()) + ", ... and " + (names.size() - 10) + " more]";
    }
}
