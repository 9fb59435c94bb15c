package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {

    /** Exit status, standard output and standard error of one command line. */
    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A user mistake: a non-zero status, a first line starting "error:", and no stack trace. */
    static void mistake(Run r, int status, String mention) {
        assertEquals(status, r.status(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("error: ") && first.contains(mention), "'" + first + "' should mention " + mention);
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @Test
    void noArgumentsOrHelpPrintUsage() {
        for (String[] args : new String[][] {{}, {"--help"}, {"copy", "--help"}}) {
            Run r = run(args);
            assertEquals(0, r.status());
            assertTrue(r.out().startsWith("usage: ./panamaformer TASK [COMMAND] [FLAGS]"), r.out());
        }
    }

    @Test
    void userMistakesGetOneLineAndAStatus(@TempDir Path tmp) throws IOException {
        mistake(run("cpy"), 2, "unknown task 'cpy'");
        mistake(run("copy", "fly"), 2, "unknown command 'fly'");
        mistake(run("copy", "train", "--stepz", "3"), 2, "unknown flag --stepz");
        mistake(run("copy", "train", "--steps", "many"), 2, "--steps needs an integer");
        mistake(run("copy", "train", "--steps", "0"), 2, "--steps must be in");
        mistake(run("copy", "train", "--lr", "-1"), 2, "--lr must be in");
        mistake(run("copy", "train", "--steps"), 2, "--steps needs a value");
        mistake(run("copy", "train", "--hidden", "10", "--heads", "3"), 2, "not divisible");
        mistake(run("copy", "--variant", "nested"), 2, "--variant for copy must be reference or lengths");
        mistake(run("copy", "test", "--interpolate", "cubic"), 2, "--interpolate");
        mistake(run("copy", "train", "--max-positions", "5"), 2, "--max-positions must be in [20,");
        mistake(run("copy", "test", "--test-size", "0"), 2, "--test-size must be in [1,");
        mistake(run("addition", "test", "--variant", "huge"), 2, "--variant for addition");
        mistake(run("addition", "test", "--variant", "lengths", "--encoding", "roman"), 2, "--encoding must be one of plain, reversed, coupled");
        mistake(run("copy", "train", "--encoding", "plain"), 2, "--encoding is for addition --variant lengths only");
        mistake(run("addition", "train", "--encoding", "plain"), 2, "--encoding is for addition --variant lengths only");
        mistake(run("parser", "train", "--activation", "tanh"), 2, "--activation must be one of relu, gelu");
        mistake(run("copy", "test", "--out", tmp.resolve("nothing").toString()), 1, "no checkpoint at");
        // a long input is cut in the message, which says how long it was
        Run longValue = run("copy", "train", "--steps", "7".repeat(50) + "x".repeat(100_000));
        mistake(longValue, 2, "(100050 characters)");
        assertTrue(longValue.err().length() < 300, longValue.err());
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        mistake(run("copy", "train", "--out", file.resolve("sub").toString(), "--steps", "1"), 2, "cannot write the output directory");
    }

    @Test
    void aCheckpointOfAnotherTaskIsRefused(@TempDir Path tmp) {
        Run train = run("parser", "train", "--variant", "simple", "--steps", "2", "--eval-every", "1", "--eval-size", "4",
                "--out", tmp.toString());
        assertEquals(0, train.status(), train.err());
        mistake(run("copy", "test", "--out", tmp.toString()), 1, "holds a model of task 'parser'");
        Run attention = run("parser", "attention", "--variant", "simple", "--out", tmp.toString(), "--example", "x=1+2",
                "--attention", "cross", "--layer", "2", "--head", "3");
        assertEquals(0, attention.status(), attention.err());
        assertTrue(Files.exists(tmp.resolve("attention-cross-layer2-head3.png")));
        mistake(run("parser", "attention", "--variant", "simple", "--out", tmp.toString(), "--layer", "3"), 2, "--layer must be in [0, 2]");
        mistake(run("parser", "attention", "--variant", "simple", "--out", tmp.toString(), "--example", "x=1+w"), 2, "unknown token 'w'");
        // a code point outside the BMP is one token, shown as typed, not half a surrogate pair or '?'
        mistake(run("parser", "attention", "--variant", "simple", "--out", tmp.toString(), "--example", "x=1+\uD83D\uDE00"), 2,
                "unknown token '\uD83D\uDE00'");
        mistake(run("parser", "attention", "--variant", "simple", "--out", tmp.toString(), "--example", "x=1+"), 2, "expected");
    }

    @Test
    void sizesThatCannotFitAreRefusedBeforeAnythingIsAllocated(@TempDir Path tmp) {
        Run model = run("copy", "train", "--hidden", "8192", "--heads", "8", "--ff", "65536", "--layers", "64", "--out", tmp.toString());
        mistake(model, 2, "lower --hidden, --ff or --layers");
        Run batch = run("copy", "train", "--hidden", "512", "--heads", "8", "--ff", "2048", "--layers", "6", "--batch", "100000", "--steps", "1",
                "--out", tmp.resolve("b").toString());
        mistake(batch, 2, "lower --batch");
        Run test = run("copy", "test", "--test-size", "100000000", "--out", tmp.toString());
        mistake(test, 2, "lower --test-size");
        assertFalse(Files.exists(tmp.resolve("model.safetensors")), "nothing trained");
    }

    @Test
    void anEarlierRunIsReplacedOnlyWhenAsked(@TempDir Path tmp) throws IOException {
        mistake(run("copy", "train", "--out", "", "--steps", "1"), 2, "--out needs a directory");
        String[] train = {"copy", "train", "--steps", "1", "--eval-every", "1", "--eval-size", "2", "--hidden", "16", "--heads", "2",
            "--ff", "16", "--layers", "1", "--out", tmp.toString()};
        Run first = run(train);
        assertEquals(0, first.status(), first.err());
        Path checkpoint = tmp.resolve("model.safetensors");
        byte[] before = Files.readAllBytes(checkpoint);
        mistake(run(train), 2, "holds the checkpoint of an earlier run; --overwrite");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(checkpoint)), "the earlier checkpoint is untouched");
        String[] again = java.util.Arrays.copyOf(train, train.length + 3);
        again[train.length] = "--overwrite";
        again[train.length + 1] = "--seed";
        again[train.length + 2] = "9";
        Run second = run(again);
        assertEquals(0, second.status(), second.err());
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(checkpoint)), "--overwrite replaced it");
        // no temporary files left, and the run's files made as any other file of the process (umask), not 0600
        Path probe = Files.createFile(tmp.resolve("probe"));
        try (var files = Files.list(tmp)) {
            for (Path f : files.toList()) {
                assertFalse(f.getFileName().toString().endsWith(".tmp"), "left behind: " + f);
                if (Files.isRegularFile(f)) {
                    assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(f), f.toString());
                }
            }
        }
    }

    @Test
    void attentionOfAShortTargetDrawsOnlyItsTokens(@TempDir Path tmp) {
        Run train = run("parser", "train", "--variant", "nested", "--steps", "1", "--eval-every", "1", "--eval-size", "2",
                "--hidden", "16", "--heads", "2", "--ff", "16", "--layers", "1", "--out", tmp.toString());
        assertEquals(0, train.status(), train.err());
        for (String kind : new String[] {"encoder", "decoder", "cross"}) {
            Run r = run("parser", "attention", "--variant", "nested", "--out", tmp.toString(), "--example", "x=1+2", "--attention", kind);
            assertEquals(0, r.status(), r.err());
            assertTrue(Files.exists(tmp.resolve("nested").resolve("attention-" + kind + "-layer0-head0.png")), r.out());
        }
    }

    @Test
    void explainShowsTheTokenization() {
        Run r = run("addition", "explain");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("153+391") && r.out().contains("the digit 0 is not padding"), r.out());
        Run p = run("parser", "explain", "--variant", "simple");
        assertTrue(p.out().contains("x=1+2") && p.out().contains("ASSIGN x ADD 1 2"), p.out());
    }

    @Test
    void pairsNeedADataFileOfPairsAndSayWhatIsWrongWithOne(@TempDir Path dir) throws IOException {
        mistake(run("pairs"), 2, "pairs needs --data FILE");
        mistake(run("pairs", "--data", dir.resolve("none.tsv").toString()), 1, "none.tsv: no such file");
        Path bad = dir.resolve("bad.tsv");
        Files.writeString(bad, "a\tb\nc d\n");
        mistake(run("pairs", "train", "--data", bad.toString(), "--out", dir.resolve("run").toString()), 1, "bad.tsv line 2: no tab");
        assertFalse(Files.exists(dir.resolve("run").resolve("model.safetensors")), "nothing written");
        Path good = dir.resolve("good.tsv");
        Files.writeString(good, "a\tb\nc\td\ne\tf\n");
        mistake(run("pairs", "--data", good.toString(), "--variant", "lengths"), 2, "pairs has no variants");
        mistake(run("pairs", "--data", good.toString(), "--units", "bytes"), 2, "--units must be one of chars, words");
        mistake(run("copy", "--data", good.toString()), 2, "--data is for the pairs task only");
    }
}
