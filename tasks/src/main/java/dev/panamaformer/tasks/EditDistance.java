package dev.panamaformer.tasks;

/** Levenshtein distance between token sequences: the fewest insertions, deletions and substitutions. */
final class EditDistance {
    private EditDistance() {
    }

    static int of(int[] a, int[] b) {
        int[] previous = new int[b.length + 1], current = new int[b.length + 1];
        for (int j = 0; j <= b.length; j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length; i++) {
            current[0] = i;
            for (int j = 1; j <= b.length; j++) {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length];
    }
}
