package dev.panamaformer.tasks;

import dev.panamaformer.kernels.FloatTensor;
import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.Transformer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** The attention command: one example through the trained model, one head drawn as an annotated heatmap. */
final class Attention {
    /** Which attention. */
    enum Kind { ENCODER, DECODER, CROSS }

    private Attention() {
    }

    /** The heatmap the flags ask for (default: encoder self-attention, layer 0, head 0, like the reference's figure). */
    static Path draw(Task task, Settings s, Path dir, Flags flags, Kernels kernels, PrintStream out) throws IOException {
        return draw(task, s, dir, flags, flags.choice("attention", Kind.ENCODER, Kind.class), -1, kernels, out);
    }

    /** As {@link #draw(Task, Settings, Path, Flags, Kernels, PrintStream)} for a given kind; layer -1 means the flag's or 0. */
    static Path draw(Task task, Settings s, Path dir, Flags flags, Kind kind, int defaultLayer, Kernels kernels, PrintStream out)
            throws IOException {
        try (Transformer model = Testing.load(task, dir, kernels)) {
            int last = model.config().numLayers() - 1;
            int layer = flags.integer("layer", defaultLayer < 0 ? 0 : Math.min(defaultLayer, last), 0, last);
            int head = flags.integer("head", 0, 0, model.config().numHeads() - 1);
            Example example;
            if (flags.has("example")) {
                example = task.example(flags.string("example", ""));
            } else {
                example = task.atOffsetZero(task.sample(new SplittableRandom(s.seed() + 99)));
            }
            // teacher forcing on the example: the decoder sees the true prefix, as in training
            model.forward(Batches.of(task, List.of(example)), false, 0);
            FloatTensor p = model.attention(switch (kind) {
                case ENCODER -> Transformer.Attention.ENCODER_SELF;
                case DECODER -> Transformer.Attention.DECODER_SELF;
                case CROSS -> Transformer.Attention.CROSS;
            }, layer);
            List<String> src = task.source().split(example.source()), tgt = task.target().split(example.target());
            List<String> decoderIn = new ArrayList<>(List.of("<s>"));
            decoderIn.addAll(tgt);
            List<String> rows = kind == Kind.ENCODER ? src : decoderIn.subList(0, Math.min(decoderIn.size(), Batches.decoderLength(task)));
            List<String> cols = kind == Kind.DECODER ? rows : src;
            int tq = kind == Kind.ENCODER ? task.sourceLength() : Batches.decoderLength(task);
            int tk = kind == Kind.DECODER ? Batches.decoderLength(task) : task.sourceLength();
            rows = rows.subList(0, Math.min(rows.size(), tq));
            cols = cols.subList(0, Math.min(cols.size(), tk));
            float[][] w = new float[rows.size()][cols.size()];
            for (int i = 0; i < rows.size(); i++) {
                for (int j = 0; j < cols.size(); j++) {
                    w[i][j] = p.get(((long) head * tq + i) * tk + j);
                }
            }
            String name = kind.name().toLowerCase(Locale.ROOT);
            Path png = dir.resolve(String.format("attention-%s-layer%d-head%d.png", name, layer, head));
            Charts.heatmap(png, String.format("%s: %s attention, layer %d, head %d — %s", task.name(), name, layer, head,
                    example.source()), w, rows, cols);
            out.println("attention heatmap: " + png);
            return png;
        }
    }
}
