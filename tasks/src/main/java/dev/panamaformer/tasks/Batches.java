package dev.panamaformer.tasks;

import dev.panamaformer.model.Batch;
import dev.panamaformer.model.PositionIds;
import java.util.List;

/** Examples to teacher-forced batches: padded sources, targets shifted right behind the start token. */
final class Batches {
    private Batches() {
    }

    /** Decoder length: the target, plus the end token when targets vary in length. */
    static int decoderLength(Task task) {
        return task.targetLength() + (task.fixedLength() ? 0 : 1);
    }

    static int[] sourceIds(Task task, String source) {
        int[] ids = task.source().encode(source);
        if (ids.length > task.sourceLength()) {
            throw new IllegalArgumentException("'" + source + "' is " + ids.length + " tokens, longer than the "
                    + task.sourceLength() + " this task's model reads");
        }
        return ids;
    }

    /** A batch padded to the task's longest source and target, as any example fits. */
    static Batch of(Task task, List<Example> examples) {
        return of(task, examples, task.sourceLength(), task.targetLength());
    }

    /** A batch of training examples, padded to the task's training lengths. */
    static Batch training(Task task, List<Example> examples) {
        return of(task, examples, task.trainingSourceLength(), task.trainingTargetLength());
    }

    /** The position ids the task gives {@code examples}, for decoding. */
    static PositionIds positions(Task task, List<Example> examples) {
        int[][] source = null;
        int[] start = null;
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            int[] ids = task.sourcePositions(e);
            int first = task.targetStart(e);
            if (ids != null && source == null) {
                source = new int[examples.size()][];
            }
            if (first != 0 && start == null) {
                start = new int[examples.size()];
            }
            if (source != null) {
                source[i] = ids;
            }
            if (start != null) {
                start[i] = first;
            }
        }
        return source == null && start == null ? PositionIds.SEQUENTIAL : new PositionIds(source, start);
    }

    private static Batch of(Task task, List<Example> examples, int s, int targetLength) {
        int b = examples.size(), t = targetLength + (task.fixedLength() ? 0 : 1);
        int[] src = new int[b * s], in = new int[b * t], out = new int[b * t];
        PositionIds given = positions(task, examples);
        int[] srcPositions = given.source() == null ? null : new int[b * s];
        int[] tgtPositions = given.target(t);
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            int[] x = sourceIds(task, e.source());
            if (x.length > s) {
                throw new IllegalArgumentException("'" + e.source() + "' is " + x.length + " tokens, longer than the " + s
                        + " " + task.name() + " trains on");
            }
            System.arraycopy(x, 0, src, i * s, x.length);
            int[] y = task.target().encode(e.target());
            if (y.length > targetLength || (task.fixedLength() && y.length != targetLength)) {
                throw new IllegalArgumentException("target '" + e.target() + "' does not fit " + task.name() + "'s "
                        + targetLength + " target tokens");
            }
            in[i * t] = Vocabulary.BOS;
            for (int j = 0; j < y.length; j++) {
                out[i * t + j] = y[j];
                if (j + 1 < t) {
                    in[i * t + j + 1] = y[j];
                }
            }
            if (!task.fixedLength()) {
                out[i * t + y.length] = Vocabulary.EOS;
            }
            if (srcPositions != null) { // an example without ids at its places; padding at id 0: masked as a key, never read
                int[] ids = given.source()[i];
                if (ids != null && ids.length != x.length) {
                    throw new IllegalArgumentException(task.name() + " gives " + ids.length + " position ids to the " + x.length
                            + " tokens of '" + e.source() + "'");
                }
                for (int j = 0; j < s; j++) {
                    srcPositions[i * s + j] = ids == null ? j : j < ids.length ? ids[j] : 0;
                }
            }
        }
        return new Batch(b, s, t, src, in, out, srcPositions, tgtPositions);
    }
}
