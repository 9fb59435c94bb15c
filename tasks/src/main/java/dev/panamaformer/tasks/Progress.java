package dev.panamaformer.tasks;

import java.io.PrintStream;

/**
 * A progress line: step, loss, teacher-forced token accuracy, the last greedy exact match,
 * steps/s and ETA. On a terminal it redraws one line; in a log it prints a line at each
 * evaluation and every tenth of the run.
 */
final class Progress {
    private final PrintStream out;
    private final int total;
    private final boolean terminal = System.console() != null;
    private long lastDraw;
    private boolean drawn;

    Progress(PrintStream out, int total) {
        this.out = out;
        this.total = total;
    }

    void update(int step, double loss, double tokenAcc, double exact, double seconds, boolean evaluated) {
        long now = System.nanoTime();
        boolean milestone = step == 1 || step % Math.max(1, total / 10) == 0;
        if (terminal ? now - lastDraw < 100_000_000L && !evaluated && step != total : !(evaluated || milestone)) {
            return;
        }
        lastDraw = now;
        double rate = step / Math.max(1e-9, seconds);
        int width = 24, filled = (int) ((long) width * step / total);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String line = String.format("step %5d/%d [%s] loss %.4f  token acc %5.1f%%  exact %s  %.1f steps/s  ETA %s", step, total,
                bar, loss, tokenAcc, Double.isNaN(exact) ? "  -  " : Evaluation.percent(exact) + "%", rate,
                duration((total - step) / Math.max(1e-9, rate)));
        if (terminal) {
            out.print("\r" + line);
            drawn = true;
        } else {
            out.println(line);
        }
        out.flush();
    }

    void finish() {
        if (terminal && drawn) {
            out.println();
            drawn = false;
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
