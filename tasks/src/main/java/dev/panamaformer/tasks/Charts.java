package dev.panamaformer.tasks;

import dev.panamaformer.model.AtomicFile;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** The PNG pictures of a run: the training curve and annotated attention heatmaps (Java2D, headless). */
final class Charts {
    private static final Color LOSS = new Color(0x1f77b4);
    private static final Color TOKEN = new Color(0xff7f0e);
    private static final Color EXACT = new Color(0x2ca02c);

    /** One point of the training curve; NaN where a quantity was not measured at that step. */
    record Point(int step, double loss, double tokenAccuracy, double exactMatch) {
    }

    private Charts() {
    }

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        return g;
    }

    /** Writes atomically, like checkpoints: a half-written picture never replaces a whole one. */
    private static void write(BufferedImage img, Path png) throws IOException {
        AtomicFile.write(png, out -> {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer in this JVM");
            }
        });
    }

    /** Loss (log scale) above, teacher-forced token accuracy and greedy exact match below, against the step. */
    static void curve(Path png, String title, List<Point> points) throws IOException {
        int w = 900, h = 620, left = 80, right = 30, top = 50, gap = 60, panel = 220;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.setColor(Color.BLACK);
        g.drawString(title, left, 30);
        int maxStep = Math.max(1, points.isEmpty() ? 1 : points.get(points.size() - 1).step());
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (Point p : points) {
            if (p.loss() > 0 && Double.isFinite(p.loss())) {
                lo = Math.min(lo, Math.log10(p.loss()));
                hi = Math.max(hi, Math.log10(p.loss()));
            }
        }
        if (lo > hi) {
            lo = -1;
            hi = 1;
        }
        lo = Math.floor(lo);
        hi = Math.ceil(hi + 1e-9);
        int x0 = left, x1 = w - right;
        int y0 = top, y1 = top + panel;
        axes(g, x0, y0, x1, y1, maxStep);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (double d = lo; d <= hi; d++) {
            int y = (int) (y1 - (d - lo) / (hi - lo) * (y1 - y0));
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0, y, x1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("1e%d", (int) d), 30, y + 4);
        }
        g.drawString("loss (per sequence)", x0 + 5, y0 - 6);
        series(g, points, x0, x1, y0, y1, maxStep, lo, hi, true, LOSS, 0);
        int y2 = y1 + gap, y3 = y2 + panel;
        axes(g, x0, y2, x1, y3, maxStep);
        for (int pct = 0; pct <= 100; pct += 25) {
            int y = y3 - pct * (y3 - y2) / 100;
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0, y, x1, y);
            g.setColor(Color.BLACK);
            g.drawString(pct + "%", 40, y + 4);
        }
        series(g, points, x0, x1, y2, y3, maxStep, 0, 100, false, TOKEN, 1);
        series(g, points, x0, x1, y2, y3, maxStep, 0, 100, false, EXACT, 2);
        g.setColor(TOKEN);
        g.drawString("token accuracy, teacher-forced (training batch)", x0 + 5, y2 - 6);
        g.setColor(EXACT);
        g.drawString("exact match, greedy decoding (fresh validation set)", x0 + 330, y2 - 6);
        g.setColor(Color.BLACK);
        g.drawString("step", (x0 + x1) / 2, h - 12);
        g.dispose();
        write(img, png);
    }

    private static void axes(Graphics2D g, int x0, int y0, int x1, int y1, int maxStep) {
        g.setColor(Color.BLACK);
        g.drawRect(x0, y0, x1 - x0, y1 - y0);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 5; i++) {
            int step = maxStep * i / 5, x = x0 + (x1 - x0) * i / 5;
            g.drawLine(x, y1, x, y1 + 4);
            g.drawString(Integer.toString(step), x - 10, y1 + 18);
        }
    }

    private static void series(Graphics2D g, List<Point> points, int x0, int x1, int y0, int y1, int maxStep,
                               double lo, double hi, boolean log, Color color, int which) {
        g.setColor(color);
        g.setStroke(new BasicStroke(which == 2 ? 2.5f : 1.5f));
        int px = -1, py = -1;
        for (Point p : points) {
            double v = which == 0 ? p.loss() : which == 1 ? p.tokenAccuracy() : p.exactMatch();
            if (!Double.isFinite(v) || (log && v <= 0)) {
                continue;
            }
            double t = log ? (Math.log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
            int x = x0 + (int) ((long) (x1 - x0) * p.step() / maxStep);
            int y = (int) (y1 - Math.max(0, Math.min(1, t)) * (y1 - y0));
            if (px >= 0) {
                g.drawLine(px, py, x, y);
            }
            if (which == 2) {
                g.fillOval(x - 3, y - 3, 6, 6);
            }
            px = x;
            py = y;
        }
        g.setStroke(new BasicStroke(1f));
    }

    /**
     * An annotated heatmap: {@code weights[i][j]} is how much query i (row, labelled
     * {@code rows[i]}) attends to key j (column, {@code cols[j]}); each cell shows its value.
     */
    static void heatmap(Path png, String title, float[][] weights, List<String> rows, List<String> cols) throws IOException {
        int cell = Math.max(22, Math.min(44, 900 / Math.max(1, Math.max(rows.size(), cols.size()))));
        int left = 90, top = 110, w = left + cell * cols.size() + 120, h = top + cell * rows.size() + 40;
        BufferedImage img = new BufferedImage(Math.max(w, 520), h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, 10, 22);
        Font label = new Font(Font.SANS_SERIF, Font.PLAIN, Math.min(13, cell / 2 + 2));
        Font value = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, cell / 3));
        g.setFont(label);
        FontMetrics fm = g.getFontMetrics();
        g.drawString("keys", left, 46);
        for (int j = 0; j < cols.size(); j++) {
            String s = cols.get(j);
            Graphics2D r = (Graphics2D) g.create();
            r.translate(left + j * cell + cell / 2 + 4, top - 6);
            r.rotate(-Math.PI / 2);
            r.drawString(s, 0, 0);
            r.dispose();
        }
        g.drawString("queries", 8, top - 6);
        for (int i = 0; i < rows.size(); i++) {
            String s = rows.get(i);
            g.drawString(s, left - 8 - fm.stringWidth(s), top + i * cell + cell / 2 + 4);
        }
        g.setFont(value);
        FontMetrics vm = g.getFontMetrics();
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < cols.size(); j++) {
                float v = Math.max(0f, Math.min(1f, weights[i][j]));
                Color c = new Color(1f - 0.85f * v, 1f - 0.6f * v, 1f);
                g.setColor(c);
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                g.setColor(v > 0.55f ? Color.WHITE : Color.BLACK);
                String s = String.format("%.2f", weights[i][j]).replace("0.", ".");
                g.drawString(s, left + j * cell + (cell - vm.stringWidth(s)) / 2, top + i * cell + cell / 2 + vm.getAscent() / 2 - 1);
            }
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, cell * cols.size(), cell * rows.size());
        int bx = left + cell * cols.size() + 20;
        for (int k = 0; k <= 100; k++) {
            float v = k / 100f;
            g.setColor(new Color(1f - 0.85f * v, 1f - 0.6f * v, 1f));
            g.fillRect(bx, top + (100 - k) * 2, 16, 2);
        }
        g.setColor(Color.BLACK);
        g.setFont(label);
        g.drawString("1", bx + 22, top + 8);
        g.drawString("0", bx + 22, top + 204);
        g.dispose();
        write(img, png);
    }
}
