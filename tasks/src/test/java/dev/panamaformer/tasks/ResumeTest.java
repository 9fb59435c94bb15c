package dev.panamaformer.tasks;

import static dev.panamaformer.tasks.CommandLineTest.mistake;
import static dev.panamaformer.tasks.CommandLineTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.Checkpoint;
import dev.panamaformer.model.Parameter;
import dev.panamaformer.model.Transformer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run interrupted after an evaluation and resumed ends with the weights of the run that never stopped. */
class ResumeTest {
    private static final List<String> FLAGS = List.of("--steps", "30", "--eval-every", "10", "--eval-size", "8", "--batch", "12",
            "--hidden", "16", "--heads", "2", "--ff", "24", "--layers", "1", "--dropout", "0.1", "--warmup", "5");

    @Test
    void aResumedRunEndsWithTheWeightsOfAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        CopyTask task = new CopyTask(20);
        Settings s = Main.settings(task, Flags.parse(FLAGS));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        TrainingRun.train(task, s, whole, 0, false, Integer.MAX_VALUE, Kernels.defaults(), quiet);
        TrainingRun.Outcome first = TrainingRun.train(task, s, parts, 0, false, 20, Kernels.defaults(), quiet);
        assertEquals(20, first.steps(), "interrupted after the evaluation of step 20");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainingRun.Outcome resumed = TrainingRun.train(task, s, parts, 0, true, Integer.MAX_VALUE, Kernels.defaults(),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(30, resumed.steps());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("resuming at step 20 of 30"), log.toString(StandardCharsets.UTF_8));
        try (Transformer a = Checkpoint.load(whole.resolve(TrainingRun.CHECKPOINT));
             Transformer b = Checkpoint.load(parts.resolve(TrainingRun.CHECKPOINT))) {
            for (Parameter p : a.parameters().list()) {
                assertArrayEquals(p.value().toArray(), b.parameters().get(p.name()).value().toArray(), p.name());
            }
        }
        assertArrayEquals(Files.readAllBytes(whole.resolve(TrainingRun.OPTIMIZER)), Files.readAllBytes(parts.resolve(TrainingRun.OPTIMIZER)),
                "Adam's moments and step");
        List<String> steps = Files.readAllLines(parts.resolve(TrainingRun.METRICS)).stream().map(l -> l.split(",")[0]).toList();
        assertEquals(List.of("step", "1", "10", "20", "30"), steps, "the metrics go on where they stopped");
    }

    @Test
    void resumeNeedsTheFilesOfARunAndRefusesAnotherModel(@TempDir Path tmp) {
        String out = tmp.toString();
        mistake(run(args(out, "--resume")), 2, "--resume needs the model.safetensors");
        mistake(run(args(out, "--resume", "--overwrite")), 2, "give one of them");
        CommandLineTest.Run trained = run(args(out, "--steps", "10"));
        assertEquals(0, trained.status(), trained.err());
        mistake(run(args(out, "--resume", "--hidden", "32")), 1, "was made for another model");
        CommandLineTest.Run again = run(args(out, "--resume", "--steps", "20"));
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("resuming at step 10 of 20"), again.out());
    }

    /** {@code copy train --out OUT} with {@link #FLAGS}, each replaced by the same flag in {@code more}, and the rest of {@code more}. */
    private static String[] args(String out, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("copy", "train", "--out", out));
        List<String> extra = List.of(more);
        for (int i = 0; i < FLAGS.size(); i += 2) {
            if (!extra.contains(FLAGS.get(i))) {
                all.add(FLAGS.get(i));
                all.add(FLAGS.get(i + 1));
            }
        }
        all.addAll(extra);
        return all.toArray(String[]::new);
    }
}
