package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short real run: the copy task must learn, and test must say so in its last line. */
class ShortTrainingTest {

    @Test
    void copyLearnsWithinThreeHundredSteps(@TempDir Path dir) throws Exception {
        CopyTask task = new CopyTask(20);
        Settings s = task.defaults().withSteps(300);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        TrainingRun.Outcome outcome = TrainingRun.train(task, s, dir, 2, Kernels.defaults(), out);
        String text = log.toString(StandardCharsets.UTF_8);
        String last = text.lines().filter(l -> l.startsWith("step")).reduce((a, b) -> b).orElseThrow();
        double loss = Double.parseDouble(last.replaceAll(".*loss ([0-9.]+).*", "$1"));
        assertTrue(loss < 5.0, "loss per sequence after " + outcome.steps() + " steps: " + loss + "\n" + text);
        assertTrue(Files.exists(dir.resolve("model.safetensors")) && Files.exists(dir.resolve("curve.png"))
                && Files.exists(dir.resolve("metrics.csv")));
        Evaluation.Result r = Testing.test(task, s.withSteps(300), dir, 2, Kernels.defaults(), out);
        assertEquals(10_000, r.total());
        assertTrue(r.exactMatch() > 99.0, r.exactMatchLine());
        assertTrue(log.toString(StandardCharsets.UTF_8).stripTrailing().endsWith(r.exactMatchLine()));
    }

    @Test
    void interpolationPastTheTrainedLengthLeavesTheTrainedLengthsAlone(@TempDir Path dir) throws Exception {
        CopyTask task = new CopyTask(20, CopyTask.Variant.LENGTHS);
        Settings d = task.defaults();
        // a short run: what is checked is how testing decodes, not how well
        Settings s = new Settings(d.model(), new Settings.Schedule(8, 40, 1e-3f, 10, 1f, 3), new Settings.Checks(40, 50, 300, 100f));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        TrainingRun.train(task, s, dir, 2, Kernels.defaults(), out);
        Evaluation.Result plain = Testing.test(task, s, dir, 0, Kernels.defaults(), out);
        log.reset();
        Evaluation.Result linear = Testing.test(task, s, dir, 0,
                new Testing.Options(Kernels.defaults(), dev.panamaformer.model.PositionScaling.Method.LINEAR), out);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("positions past the trained 21: linear scaling, up to 41"), text);
        assertTrue(text.contains("300 fresh sequences of length 30") && text.contains("300 fresh sequences of length 40"), text);
        assertEquals(plain.rows(), linear.rows(), "lengths 1 to 20 need no more than the 21 trained positions");
    }
}
