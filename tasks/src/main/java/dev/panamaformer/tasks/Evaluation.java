package dev.panamaformer.tasks;

import dev.panamaformer.model.Decoding;
import dev.panamaformer.model.Transformer;
import java.util.ArrayList;
import java.util.List;

/** Exact match under autoregressive greedy decoding, never teacher-forced. */
final class Evaluation {
    /** One prediction. */
    record Row(Example example, String prediction) {
        boolean correct() {
            return prediction.equals(example.target());
        }
    }

    /** Counts, plus per-character counts for tasks whose targets are digit strings. */
    record Result(int correct, int total, long symbolsCorrect, long symbolsTotal, List<Row> rows) {
        double exactMatch() {
            return total == 0 ? 0 : 100.0 * correct / total;
        }

        double perSymbol() {
            return symbolsTotal == 0 ? 0 : 100.0 * symbolsCorrect / symbolsTotal;
        }

        String exactMatchLine() {
            return String.format("exact match: %s%% (%d/%d)", percent(exactMatch()), correct, total);
        }
    }

    /** 100 only when every example is right; otherwise at most 99.99. */
    static String percent(double p) {
        if (p >= 100.0) {
            return "100";
        }
        return String.format("%.2f", Math.min(p, 99.99));
    }

    private Evaluation() {
    }

    static List<Row> predict(Transformer model, Task task, List<Example> examples, int batchSize) {
        List<Row> rows = new ArrayList<>(examples.size());
        int eos = task.fixedLength() ? -1 : Vocabulary.EOS;
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<Example> chunk = examples.subList(from, Math.min(examples.size(), from + batchSize));
            int maxLength = task.decodeLength(chunk);
            int[][] sources = new int[chunk.size()][];
            for (int i = 0; i < sources.length; i++) {
                sources[i] = Batches.sourceIds(task, chunk.get(i).source());
            }
            int[][] out = Decoding.greedy(model, sources, Batches.positions(task, chunk), Vocabulary.BOS, eos, maxLength);
            for (int i = 0; i < out.length; i++) {
                rows.add(new Row(chunk.get(i), task.target().decode(out[i])));
            }
        }
        return rows;
    }

    /** Exact match, and for digit targets the share of digits right, aligned from the right. */
    static Result evaluate(Transformer model, Task task, List<Example> examples, int batchSize) {
        return score(predict(model, task, examples, batchSize), task.digitTargets() ? task : null);
    }

    /** {@code digits}: the task whose targets are numbers (read by {@link Task#readable}), or null. */
    static Result score(List<Row> rows, Task digits) {
        int correct = 0;
        long symbols = 0, symbolsRight = 0;
        for (Row r : rows) {
            correct += r.correct() ? 1 : 0;
            if (digits != null) {
                String truth = digits.readable(r.example().target()), guess = digits.readable(r.prediction());
                for (int k = 1; k <= truth.length(); k++) {
                    symbols++;
                    if (k <= guess.length() && guess.charAt(guess.length() - k) == truth.charAt(truth.length() - k)) {
                        symbolsRight++;
                    }
                }
            }
        }
        return new Result(correct, rows.size(), symbolsRight, symbols, rows);
    }
}
