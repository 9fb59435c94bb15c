package dev.panamaformer.bench;

import dev.panamaformer.kernels.AttentionShape;
import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.kernels.MatrixBatch;
import dev.panamaformer.kernels.RowMask;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Multi-head attention of one sequence of {@code length} tokens, 8 heads of d_k = 64, on the
 * default kernels and threads: the materialized path the model uses for short sequences
 * (scores, softmax, dropout and products as separate kernels over (B, h, T, T) buffers) against
 * the fused kernel, forward and backward. Attention dropout 0.1 as in training; {@code causal}
 * is decoder self-attention. The backward benchmarks time the backward pass alone, after a
 * forward pass in setup.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBenchmark {
    static final int HEADS = 8;
    static final int HEAD_SIZE = 64;
    static final float DROPOUT = 0.1f;

    @Param({"32", "64", "128", "512", "1024", "4096"})
    public int length;

    /** Decoder self-attention with its causal mask: {@code -p causal=true} (not in the default run, to keep it short). */
    @Param({"false"})
    public boolean causal;

    private Arena arena;
    private Kernels kernels;
    private AttentionShape shape;
    private RowMask mask;
    private float scale;
    private MatrixBatch q, k, v, o, dO, dq, dk, dv;
    private FloatTensor lse;
    private MatrixBatch probs, dropped, dDropped, dScores;
    private FloatTensor probsFlat, droppedFlat, dDroppedFlat, dProbsFlat, dScoresFlat;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = Kernels.defaults();
        Random random = new Random(42);
        int t = length, c = HEADS * HEAD_SIZE;
        shape = new AttentionShape(1, HEADS, t, t, HEAD_SIZE);
        mask = causal ? RowMask.causal(t) : RowMask.NONE;
        scale = (float) (1 / Math.sqrt(HEAD_SIZE));
        q = heads(random(random, t * c));
        k = heads(random(random, t * c));
        v = heads(random(random, t * c));
        dO = heads(random(random, t * c));
        o = heads(FloatTensor.allocate(arena, t, c));
        dq = heads(FloatTensor.allocate(arena, t, c));
        dk = heads(FloatTensor.allocate(arena, t, c));
        dv = heads(FloatTensor.allocate(arena, t, c));
        lse = FloatTensor.allocate(arena, HEADS * t);
        long scores = (long) HEADS * t * t;
        probsFlat = FloatTensor.allocate(arena, HEADS, t, t);
        droppedFlat = FloatTensor.allocate(arena, HEADS, t, t);
        dDroppedFlat = FloatTensor.allocate(arena, HEADS, t, t);
        dProbsFlat = FloatTensor.allocate(arena, HEADS, t, t);
        dScoresFlat = FloatTensor.allocate(arena, HEADS, t, t);
        probs = scoreMatrices(probsFlat);
        dropped = scoreMatrices(droppedFlat);
        dDropped = scoreMatrices(dDroppedFlat);
        dScores = scoreMatrices(dScoresFlat);
        if (scores > Integer.MAX_VALUE) {
            throw new IllegalStateException("too many scores for dropout's index: " + scores);
        }
        materializedForward();
        fusedForward();
    }

    private FloatTensor random(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = random.nextFloat() * 2f - 1f;
        }
        return FloatTensor.of(arena, values, n);
    }

    private MatrixBatch heads(FloatTensor t) {
        return new MatrixBatch(t, 0, HEADS * HEAD_SIZE, (long) length * HEADS * HEAD_SIZE, HEAD_SIZE);
    }

    private MatrixBatch scoreMatrices(FloatTensor t) {
        return new MatrixBatch(t, 0, length, (long) HEADS * length * length, (long) length * length);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public FloatTensor materializedForward() {
        int t = length;
        kernels.matmul().gemmBatched(1, HEADS, false, true, t, t, HEAD_SIZE, scale, q, k, 0f, probs);
        kernels.softmax().forward(probsFlat, probsFlat, HEADS * t, t, mask);
        kernels.dropout().forward(probsFlat, droppedFlat, (long) HEADS * t * t, DROPOUT, 7);
        kernels.matmul().gemmBatched(1, HEADS, false, false, t, HEAD_SIZE, t, 1f, dropped, v, 0f, o);
        return o.tensor();
    }

    @Benchmark
    public FloatTensor fusedForward() {
        kernels.fusedAttention().forward(shape, scale, q, k, v, mask, DROPOUT, 7, o, lse);
        return o.tensor();
    }

    @Benchmark
    public FloatTensor materializedBackward() {
        int t = length;
        long n = (long) HEADS * t * t;
        kernels.matmul().gemmBatched(1, HEADS, false, true, t, t, HEAD_SIZE, 1f, dO, v, 0f, dDropped);
        kernels.matmul().gemmBatched(1, HEADS, true, false, t, HEAD_SIZE, t, 1f, dropped, dO, 1f, dv);
        dProbsFlat.fill(0f);
        kernels.dropout().backward(dDroppedFlat, dProbsFlat, n, DROPOUT, 7);
        dScoresFlat.fill(0f);
        kernels.softmax().backward(probsFlat, dProbsFlat, dScoresFlat, HEADS * t, t);
        kernels.matmul().gemmBatched(1, HEADS, false, false, t, HEAD_SIZE, t, scale, dScores, k, 1f, dq);
        kernels.matmul().gemmBatched(1, HEADS, true, false, t, HEAD_SIZE, t, scale, dScores, q, 1f, dk);
        return dq.tensor();
    }

    @Benchmark
    public FloatTensor fusedBackward() {
        kernels.fusedAttention().backward(shape, scale, q, k, v, mask, DROPOUT, 7, o, lse, dO, dq, dk, dv);
        return dq.tensor();
    }
}
