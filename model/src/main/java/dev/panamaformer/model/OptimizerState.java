package dev.panamaformer.model;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A {@link Trainer}'s state beside the model's {@link Checkpoint}: Adam's moments of every
 * parameter (tensors {@code exp_avg.NAME} and {@code exp_avg_sq.NAME}, PyTorch's names for them)
 * and the step count, with the model's config, in a safetensors file of its own, so that the
 * model checkpoint stays a plain state_dict. A run resumed from both files continues exactly as
 * the uninterrupted run would have: the same weights, moments, learning rate and dropout streams,
 * bit for bit. Saving is atomic; loading checks the whole file before anything changes.
 */
final class OptimizerState {
    static final String FORMAT = "panamaformer-adam-1";

    private OptimizerState() {
    }

    static void save(Trainer trainer, Path path) throws IOException {
        Transformer model = trainer.model();
        SafeTensors.Writer w = new SafeTensors.Writer()
                .metadata("format", FORMAT)
                .metadata("config", model.config().toJson())
                .metadata("step", Integer.toString(trainer.steps()));
        List<Parameter> params = trainer.parameters();
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            w.floats("exp_avg." + p.name(), trainer.firstMoment(p).toArray(), p.shape());
            w.floats("exp_avg_sq." + p.name(), trainer.secondMoment(p).toArray(), p.shape());
        }
        w.write(path);
    }

    static void load(Trainer trainer, Path path) throws IOException {
        SafeTensors f;
        try {
            f = SafeTensors.open(path);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("no optimizer state at " + path);
        }
        try (f) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointException(path + " is not a Panamaformer optimizer state (format " + meta.get("format")
                        + ", expected " + FORMAT + ")");
            }
            TransformerConfig config;
            try {
                config = TransformerConfig.fromJson(String.valueOf(meta.get("config")));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(path + " has an invalid config: " + e.getMessage());
            }
            if (!config.equals(trainer.model().config())) {
                throw new CheckpointException(path + " was saved for another model: its config " + config.toJson()
                        + ", the model's " + trainer.model().config().toJson());
            }
            int step;
            try {
                step = Integer.parseInt(String.valueOf(meta.get("step")));
            } catch (NumberFormatException e) {
                step = -1;
            }
            if (step < 0) {
                throw new CheckpointException(path + ": step must be a non-negative integer, got " + meta.get("step"));
            }
            List<Parameter> params = trainer.parameters();
            TreeSet<String> expected = new TreeSet<>(), stored = new TreeSet<>(f.entries().keySet());
            for (Parameter p : params) {
                expected.add("exp_avg." + p.name());
                expected.add("exp_avg_sq." + p.name());
            }
            if (!expected.equals(stored)) {
                TreeSet<String> missing = new TreeSet<>(expected), extra = new TreeSet<>(stored);
                missing.removeAll(stored);
                extra.removeAll(expected);
                throw new CheckpointException(path + " does not fit the model: missing " + Checkpoint.some(missing) + ", unexpected "
                        + Checkpoint.some(extra));
            }
            for (String name : expected) {
                SafeTensors.Entry e = f.entry(name);
                int[] shape = trainer.model().parameters().get(name.substring(name.indexOf('.') + 1)).shape();
                if (!e.dtype().equals("F32") || !Arrays.equals(e.shape(), shape)) {
                    throw new CheckpointException(path + ": " + name + " is " + e.dtype() + Arrays.toString(e.shape())
                            + ", expected F32" + Arrays.toString(shape));
                }
                long bad = f.firstNonFinite(name);
                if (bad >= 0) {
                    throw new CheckpointException(path + ": " + name + " holds " + f.floatAt(name, bad) + " at index " + bad);
                }
                if (name.startsWith("exp_avg_sq.")) {
                    float[] v = f.floats(name);
                    for (int i = 0; i < v.length; i++) {
                        if (v[i] < 0f) {
                            throw new CheckpointException(path + ": " + name + " holds " + v[i] + " at index " + i
                                    + "; a second moment is never negative");
                        }
                    }
                }
            }
            // everything checked: now the trainer changes
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                trainer.firstMoment(p).copyFrom(f.floats("exp_avg." + p.name()));
                trainer.secondMoment(p).copyFrom(f.floats("exp_avg_sq." + p.name()));
            }
            trainer.resumeAt(step);
        }
    }
}
