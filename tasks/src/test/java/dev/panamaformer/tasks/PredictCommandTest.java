package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./panamaformer copy predict ...} against a copy model trained here for 300 steps. */
class PredictCommandTest {
    private static final List<String> INPUTS = List.of(
            "3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4",
            "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 1",
            "19 18 17 16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 19",
            "7 7 7 1 1 1 2 2 2 3 3 3 4 4 4 5 5 5 6 6",
            "2 4 6 8 10 12 14 16 18 1 3 5 7 9 11 13 15 17 19 2");
    @TempDir
    static Path dir;

    @BeforeAll
    static void train() throws Exception {
        CopyTask task = new CopyTask(20);
        TrainingRun.train(task, task.defaults().withSteps(300), dir, 2, Kernels.defaults(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    private static CommandLineTest.Run predict(String stdin, String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "copy";
        all[1] = "predict";
        System.arraycopy(args, 0, all, 2, args.length);
        all[args.length + 2] = "--out";
        all[args.length + 3] = dir.toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(all, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CommandLineTest.Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void eachInputGetsItsCopyOnALineOfItsOwn() {
        CommandLineTest.Run r = predict("", INPUTS.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(INPUTS.size(), lines.size(), r.out());
        long right = 0;
        for (int i = 0; i < lines.size(); i++) {
            right += lines.get(i).equals(INPUTS.get(i)) ? 1 : 0;
        }
        assertTrue(right >= 4, "a model at > 99 % exact match copies these: " + r.out());
    }

    @Test
    void standardInputIsReadLineByLineAndABadLineIsNamedAndSkipped() {
        String stdin = INPUTS.get(0) + "\r\n\n1 2 25\n" + INPUTS.get(1) + "\n" + INPUTS.get(2) + " 4\n";
        CommandLineTest.Run r = predict(stdin);
        assertEquals(1, r.status(), "a refused input makes the status non-zero: " + r.err());
        assertEquals(2, r.out().lines().count(), "two good inputs, the empty line skipped: " + r.out());
        List<String> errors = r.err().lines().toList();
        assertEquals(2, errors.size(), r.err());
        assertTrue(errors.get(0).startsWith("error: input 3 ") && errors.get(0).contains("unknown token '25'"), errors.get(0));
        assertTrue(errors.get(1).startsWith("error: input 5 ") && errors.get(1).contains("21 tokens, longer than the 20"),
                errors.get(1));
        assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), r.err());
    }

    @Test
    void scoresAreLogProbabilitiesAfterATab() {
        CommandLineTest.Run r = predict("", "--show-scores", INPUTS.get(0), INPUTS.get(3));
        assertEquals(0, r.status(), r.err());
        for (String line : r.out().lines().toList()) {
            String[] parts = line.split("\t");
            assertEquals(2, parts.length, line);
            double score = Double.parseDouble(parts[1]);
            assertTrue(score <= 0 && score > -1000, line);
        }
        // beam search keeps the best hypothesis it finds: never below greedy's by more than rounding
        CommandLineTest.Run beam = predict("", "--show-scores", "--beam", "3", INPUTS.get(0), INPUTS.get(3));
        assertEquals(0, beam.status(), beam.err());
        List<String> g = r.out().lines().toList(), b = beam.out().lines().toList();
        for (int i = 0; i < g.size(); i++) {
            double greedy = Double.parseDouble(g.get(i).split("\t")[1]), best = Double.parseDouble(b.get(i).split("\t")[1]);
            assertTrue(best >= greedy - 1e-3, "beam " + b.get(i) + " against greedy " + g.get(i));
        }
    }

    @Test
    void samplingIsReproducibleFromItsSeedAndExcludesBeamSearch() {
        CommandLineTest.Run a = predict("", "--temperature", "1.5", "--top-k", "5", "--seed", "7", INPUTS.get(0), INPUTS.get(1));
        CommandLineTest.Run b = predict("", "--temperature", "1.5", "--top-k", "5", "--seed", "7", INPUTS.get(0), INPUTS.get(1));
        assertEquals(0, a.status(), a.err());
        assertEquals(a.out(), b.out());
        CommandLineTest.mistake(predict("", "--beam", "2", "--top-p", "0.9", INPUTS.get(0)), 2, "choose one");
        CommandLineTest.mistake(predict("", "--top-p", "0", INPUTS.get(0)), 2, "--top-p");
    }

    @Test
    void withoutACheckpointItSaysWhereItLooked() {
        CommandLineTest.Run r = CommandLineTest.run("copy", "predict", "1 2 3", "--out", dir.resolve("nothing-here").toString());
        CommandLineTest.mistake(r, 1, "no checkpoint");
    }
}
