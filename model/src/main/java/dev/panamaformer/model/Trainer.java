package dev.panamaformer.model;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * A training session: steps with Adam or AdamW (zero the gradients, forward with dropout,
 * backward, clip the gradients by their global norm, update). The same seed gives the same run,
 * for any thread count: dropout draws from counter-based streams keyed by the seed and the step.
 *
 * <p>The session owns what training needs beside the weights, all freed by {@link #close()}: the
 * parameters' gradients (in the model's flat layout, {@link Parameters}; each
 * {@link Parameter#grad()} shows them while the session is open), Adam's moments and the step
 * ({@link #saveState}), and the activation buffers its forward and backward passes keep for the
 * batch shape in use ({@link #workspaceBytes()}); {@link #memoryBytes()} counts them. One session
 * at a time per model. The model's own {@link Transformer#forward} (an evaluation, a picture of
 * attention) uses buffers of its own, so it never reallocates a session's.
 *
 * <p>Not thread-safe: one thread steps a session; the model refuses a step beside another
 * thread's forward, step or decoding (see {@link Transformer}).
 */
public final class Trainer implements AutoCloseable {

    /**
     * @param learningRate per step
     * @param beta1        Adam's first-moment decay
     * @param beta2        Adam's second-moment decay
     * @param eps          added to the root of the second moment
     * @param weightDecay  0 for none
     * @param decoupled    AdamW (decay the weights directly) rather than L2 through the gradient
     * @param clipNorm     the largest global gradient norm; 0 for no clipping
     * @param seed         of the dropout streams
     */
    public record Options(LearningRate learningRate, float beta1, float beta2, float eps, float weightDecay,
                          boolean decoupled, float clipNorm, long seed) {
        public Options {
            if (learningRate == null) {
                throw new IllegalArgumentException("learningRate is null");
            }
            if (!(clipNorm >= 0f)) {
                throw new IllegalArgumentException("clipNorm must be >= 0, got " + clipNorm);
            }
        }

        /** The reference's Adam: lr 1e-4, betas (0.9, 0.98), eps 1e-9, no decay, no clipping. */
        public static Options reference(long seed) {
            return new Options(LearningRate.constant(1e-4f), 0.9f, 0.98f, 1e-9f, 0f, false, 0f, seed);
        }

        public Options withLearningRate(LearningRate lr) {
            return new Options(lr, beta1, beta2, eps, weightDecay, decoupled, clipNorm, seed);
        }

        public Options withClipNorm(float clip) {
            return new Options(learningRate, beta1, beta2, eps, weightDecay, decoupled, clip, seed);
        }

        public Options withWeightDecay(float decay, boolean decoupled) {
            return new Options(learningRate, beta1, beta2, eps, decay, decoupled, clipNorm, seed);
        }
    }

    private final Transformer model;
    private final Options options;
    private final Kernels kernels;
    private final Arena arena = Arena.ofShared();
    private final Parameters params;
    private final FloatTensor values;    // every parameter, flat (Parameters#values)
    private final FloatTensor gradients; // laid out alike
    private final FloatTensor m;         // Adam's first moments, laid out alike
    private final FloatTensor v;         // Adam's second moments, laid out alike
    /** This session's activations and their gradients for the last batch shape, made by the first step of a shape. */
    private ForwardPass pass;
    private int step;
    private double lastGradNorm;
    private float lastLearningRate;

    public Trainer(Transformer model, Options options) {
        if (model == null || options == null) {
            throw new IllegalArgumentException("model and options must not be null");
        }
        this.model = model;
        this.options = options;
        this.kernels = model.kernels();
        try {
            this.params = model.parameters();
            this.values = params.values();
            this.gradients = params.flat(arena);
            this.m = params.flat(arena);
            this.v = params.flat(arena);
            // the swap under the guard, waiting out decoding steps: a backward in progress never sees it
            model.guard.enterExclusiveWaiting("new Trainer", java.time.Duration.ofMinutes(1));
            try {
                params.attach(gradients);
            } finally {
                model.guard.exitExclusive();
            }
        } catch (RuntimeException | Error e) {
            arena.close(); // nothing the caller could close was returned
            throw e;
        }
    }

    /** The dropout seed of step {@code step}. */
    private long stepSeed(int step) {
        long z = options.seed() + step * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        return z ^ (z >>> 33);
    }

    /**
     * One training step on {@code batch}; returns its loss (before the update). A non-finite loss
     * or gradient raises {@link TrainingException} naming the step and the first tensor that went
     * non-finite, and leaves the parameters and optimizer state untouched.
     */
    public double step(Batch batch) {
        model.guard.enterExclusive("Trainer.step");
        try {
            return stepHeld(batch);
        } finally {
            model.guard.exitExclusive();
        }
    }

    private double stepHeld(Batch batch) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("the trainer is closed");
        }
        if (batch == null || !batch.hasTargets()) {
            throw new IllegalArgumentException("a training step needs a batch with targets (tgtOut), got "
                    + (batch == null ? "null" : "inputs alone"));
        }
        int next = step + 1;
        gradients.fill(0f);
        pass = model.passFor(pass, batch);
        markZeroGradients(true);
        try {
            double loss = pass.forward(batch, true, stepSeed(next));
            if (!Double.isFinite(loss)) {
                String where = pass.firstNonFiniteActivation();
                throw new TrainingException(next, "loss is " + loss + "; first non-finite tensor: "
                        + (where == null ? "the loss itself (log of a zero probability)" : where));
            }
            pass.backward();
            return finishStep(next, loss);
        } finally {
            markZeroGradients(false);
        }
    }

    /**
     * Tells the parameters that their gradients are zeros (a product that writes a whole one then
     * stores instead of adding, {@link Parameter#takeZeroGrad()}), or no longer known to be.
     */
    private void markZeroGradients(boolean zero) {
        for (int i = 0; i < params.size(); i++) { // by index: an iterator per step is an allocation
            params.at(i).markZeroGrad(zero);
        }
    }

    /** Clips the gradients of step {@code next} and updates the parameters from them. */
    private double finishStep(int next, double loss) {
        long n = params.extent();
        double norm = Math.sqrt(kernels.elementwise().sumOfSquares(gradients, n));
        if (!Double.isFinite(norm)) {
            throw new TrainingException(next, "gradient of " + firstNonFiniteGradient() + " is not finite; no parameter was updated");
        }
        if (options.clipNorm() > 0 && norm > options.clipNorm()) {
            kernels.elementwise().scale(gradients, (float) (options.clipNorm() / (norm + 1e-6)), gradients, n);
        }
        float lr = options.learningRate().at(next);
        kernels.adam().update(values, gradients, m, v, n, next, lr, options.beta1(), options.beta2(), options.eps(),
                options.weightDecay(), options.decoupled());
        model.weightsChanged();
        step = next;
        lastGradNorm = norm;
        lastLearningRate = lr;
        return loss;
    }

    /** Steps completed. */
    public int steps() {
        return step;
    }

    /**
     * Writes this trainer's state (Adam's moments of every parameter and the step count) to
     * {@code path}, beside the model's own {@link Checkpoint}: with both, {@link #loadState}
     * continues the run exactly where it stopped. The file is replaced whole or not at all.
     */
    public void saveState(Path path) throws IOException {
        model.guard.enterExclusive("Trainer.saveState");
        try {
            OptimizerState.save(this, path);
        } finally {
            model.guard.exitExclusive();
        }
    }

    /**
     * Restores the state {@link #saveState} wrote, for a model of the same config whose weights
     * came from the checkpoint saved with it; the next step is the one after the saved step, with
     * its learning rate and dropout streams. Any mismatch (format, config, names, shapes,
     * non-finite or negative values) throws a {@link CheckpointException} before anything changes.
     */
    public void loadState(Path path) throws IOException {
        model.guard.enterExclusive("Trainer.loadState");
        try {
            OptimizerState.load(this, path);
        } finally {
            model.guard.exitExclusive();
        }
    }

    /** The name of the first parameter (in creation order) whose gradient holds a NaN or infinity. */
    private String firstNonFiniteGradient() {
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.at(i);
            if (!Double.isFinite(kernels.elementwise().sumOfSquares(p.grad(), p.size()))) {
                return p.name();
            }
        }
        return "a parameter"; // the sum overflowed though every part is finite
    }

    List<Parameter> parameters() {
        return params.list();
    }

    /** Adam's first moment of {@code p}, a view of the flat moments. */
    FloatTensor firstMoment(Parameter p) {
        return m.view(p.offset(), p.shape());
    }

    /** Adam's second moment of {@code p}. */
    FloatTensor secondMoment(Parameter p) {
        return v.view(p.offset(), p.shape());
    }

    /** After the moments of step {@code steps} were restored: the next step is {@code steps + 1}. */
    void resumeAt(int steps) {
        this.step = steps;
    }

    /** The global gradient norm of the last step, before clipping. */
    public double lastGradNorm() {
        return lastGradNorm;
    }

    public float lastLearningRate() {
        return lastLearningRate;
    }

    public Transformer model() {
        return model;
    }

    /**
     * The log-probabilities (B*T, V) of the last step's forward pass (before its update), in this
     * session's buffers: valid until the next step or {@link #close()}. The model's own
     * {@link Transformer#logProbs()} are of its own last {@link Transformer#forward}, not of a step.
     */
    public FloatTensor logProbs() {
        ForwardPass p = pass;
        if (p == null || !p.ran()) {
            throw new IllegalStateException(p == null ? "no training step yet" : "the trainer is closed");
        }
        return p.logProbs();
    }

    /**
     * Bytes of this session's training buffers: the activations of the last step's batch shape
     * and their gradients (the model's {@link Transformer#workspaceBytes()} counts only the
     * buffers of its own {@link Transformer#forward} calls).
     */
    public long workspaceBytes() {
        ForwardPass p = pass;
        return p == null ? 0 : p.bytes();
    }

    /** Bytes of off-heap memory this session holds: gradients, Adam's two moments and {@link #workspaceBytes()}. */
    public long memoryBytes() {
        return arena.scope().isAlive() ? (gradients.size() + m.size() + v.size()) * Float.BYTES + workspaceBytes() : 0;
    }

    /**
     * Frees the parameters' gradients, Adam's moments and the training buffers; the model keeps
     * its values (a {@link Transformer#backward()} after this allocates gradients of the model's
     * own). Like the steps, from the thread that steps the session; it waits for other threads'
     * decoding steps or forward and backward passes to end (up to a minute), so that none sees
     * the gradients go. Again, nothing.
     */
    @Override
    public void close() {
        if (!arena.scope().isAlive()) {
            return;
        }
        model.guard.enterExclusiveWaiting("Trainer.close", java.time.Duration.ofMinutes(1));
        try {
            if (pass != null) {
                pass.close();
            }
            params.detach(gradients);
            arena.close();
        } finally {
            model.guard.exitExclusive();
        }
    }
}
