package dev.panamaformer.tasks;

import dev.panamaformer.model.Batch;
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

    static Batch of(Task task, List<Example> examples) {
        int b = examples.size(), s = task.sourceLength(), t = decoderLength(task);
        int[] src = new int[b * s], in = new int[b * t], out = new int[b * t];
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            int[] x = sourceIds(task, e.source());
            System.arraycopy(x, 0, src, i * s, x.length);
            int[] y = task.target().encode(e.target());
            if (y.length > task.targetLength() || (task.fixedLength() && y.length != task.targetLength())) {
                throw new IllegalArgumentException("target '" + e.target() + "' does not fit " + task.name() + "'s "
                        + task.targetLength() + " target tokens");
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
        }
        return new Batch(b, s, t, src, in, out);
    }
}
