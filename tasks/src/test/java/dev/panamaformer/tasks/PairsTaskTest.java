package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.kernels.Kernels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pairs task: reading a user's file, splitting it, the error rate, and a short run that must learn. */
class PairsTaskTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("pairs.tsv");
        Files.write(f, bytes);
        return f;
    }

    private Path file(String text) throws IOException {
        return file(text.getBytes(StandardCharsets.UTF_8));
    }

    private IOException refused(String text) throws IOException {
        Path f = file(text);
        return assertThrows(IOException.class, () -> PairsFile.read(f));
    }

    @Test
    void aByteOrderMarkCarriageReturnsAndBlankLinesAreNotData() throws IOException {
        byte[] body = "cat\tkatze\r\n\r\n  \n dog \t hund\nx\ty".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[body.length + 3];
        bytes[0] = (byte) 0xEF;
        bytes[1] = (byte) 0xBB;
        bytes[2] = (byte) 0xBF;
        System.arraycopy(body, 0, bytes, 3, body.length);
        List<PairsFile.Pair> pairs = PairsFile.read(file(bytes));
        assertEquals(List.of(new PairsFile.Pair(1, "cat", "katze"), new PairsFile.Pair(4, "dog", "hund"), new PairsFile.Pair(5, "x", "y")),
                pairs);
    }

    @Test
    void aLineThatIsNotAPairIsNamedByNumber() throws IOException {
        assertEquals(file("a\tb\n").resolveSibling("pairs.tsv") + " line 2: no tab between source and target",
                refused("a\tb\nno tab\n").getMessage());
        assertTrue(refused("a\tb\tc\n").getMessage().endsWith("line 1: more than one tab (one separates source and target)"));
        assertTrue(refused("a\tb\n\t b\n").getMessage().endsWith("line 2: an empty source"));
        assertTrue(refused("a\t \n").getMessage().endsWith("line 1: an empty target"));
        assertTrue(refused("a\tb\n" + "x".repeat(PairsFile.MAX_LINE) + "\ty\n").getMessage().contains("line 2: 10002 characters"));
        assertTrue(refused("\n \r\n").getMessage().endsWith("holds no pairs (lines of source, a tab, target)"));
        Path bad = file(new byte[] {'a', '\t', 'b', '\n', 'c', '\t', (byte) 0xC3, (byte) 0x28, '\n'});
        assertTrue(assertThrows(IOException.class, () -> PairsFile.read(bad)).getMessage().endsWith("line 2: not UTF-8 text"));
        assertThrows(NoSuchFileException.class, () -> PairsFile.read(dir.resolve("missing.tsv")));
        assertTrue(assertThrows(IOException.class, () -> PairsFile.read(dir)).getMessage().contains("is a directory"));
    }

    @Test
    void theSplitIsReproducibleDisjointAndWhole() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("w").append(i).append(" x\t").append(i).append('\n');
        }
        Path f = file(sb.toString());
        PairsTask a = PairsTask.read(f, PairsTask.Units.WORDS, PairsTask.Units.CHARS, 5);
        PairsTask b = PairsTask.read(f, PairsTask.Units.WORDS, PairsTask.Units.CHARS, 5);
        PairsTask c = PairsTask.read(f, PairsTask.Units.WORDS, PairsTask.Units.CHARS, 6);
        assertEquals(a.testSet(0, 0).examples(), b.testSet(0, 0).examples());
        assertEquals(a.validation(100, null), b.validation(100, null));
        assertNotEquals(a.testSet(0, 0).examples(), c.testSet(0, 0).examples(), "another seed, another split");
        assertEquals(20, a.testSet(0, 0).examples().size());
        assertEquals(10, a.validation(100, null).size());
        Set<String> seen = new HashSet<>();
        a.testSet(0, 0).examples().forEach(e -> assertTrue(seen.add(e.source())));
        a.validation(100, null).forEach(e -> assertTrue(seen.add(e.source())));
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 2_000; i++) {
            seen.add(a.sample(r).source());
        }
        assertEquals(200, seen.size(), "training draws from every pair not held out, and from no held-out one twice");
        assertEquals(2, a.sourceLength(), "two words");
        assertEquals(3, a.targetLength(), "up to three characters");
        assertEquals(4, a.defaults().model().maxPositions(), "the longest target and its end token");
        assertTrue(a.metadata().get("source_vocabulary").startsWith("[\"<pad>\",\"<s>\",\"</s>\","), a.metadata().toString());
        assertEquals("chars", a.metadata().get("target_units"));
        assertThrows(IOException.class, () -> PairsTask.read(file("a\tb\nc\td\n"), PairsTask.Units.CHARS, PairsTask.Units.CHARS, 1));
    }

    @Test
    void validationAndTestFilesOfTheirOwnAreNotHeldOutOfTheData() throws IOException {
        Path data = dir.resolve("train.tsv"), valid = dir.resolve("valid.tsv"), test = dir.resolve("test.tsv");
        Files.writeString(data, "ab\tba\ncd\tdc\n");
        Files.writeString(valid, "bc\tcb\n");
        Files.writeString(test, "da\tad\nxy\tyx\n");
        PairsTask task = PairsTask.read(data, valid, test, PairsTask.Units.CHARS, PairsTask.Units.CHARS, 1);
        assertEquals(List.of(new Example("bc", "cb")), task.validation(10, null));
        assertEquals(List.of(new Example("da", "ad"), new Example("xy", "yx")), task.testSet(0, 0).examples());
        Set<String> drawn = new HashSet<>();
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 100; i++) {
            drawn.add(task.sample(r).source());
        }
        assertEquals(Set.of("ab", "cd"), drawn, "all of the data trains");
        assertTrue(task.source().vocabulary().contains("x"), "units of the test file are in the vocabulary");
        Files.writeString(test, "da\tad\nno tab\n");
        IOException e = assertThrows(IOException.class, () -> PairsTask.read(data, valid, test, PairsTask.Units.CHARS,
                PairsTask.Units.CHARS, 1));
        assertTrue(e.getMessage().equals(test + " line 2: no tab between source and target"), e.getMessage());
        assertThrows(IOException.class, () -> PairsTask.read(data, null, test, PairsTask.Units.CHARS, PairsTask.Units.CHARS, 1),
                "two pairs: one for training, one held out for validation, is fine; the test file's bad line is not");
    }

    @Test
    void vocabulariesSurviveTheirJson() {
        List<String> tokens = List.of("<pad>", "a", "\"", "\\", "\t", "é", "🙂", "x y");
        assertEquals(tokens, PairsTask.parseJson(PairsTask.json(tokens)));
    }

    @Property(tries = 300)
    void editDistanceIsTheFewestEdits(@ForAll("short") List<Integer> a, @ForAll("short") List<Integer> b) {
        assertEquals(naive(a, 0, b, 0), EditDistance.of(ints(a), ints(b)));
    }

    @net.jqwik.api.Provide("short")
    net.jqwik.api.Arbitrary<List<Integer>> shortLists() {
        return net.jqwik.api.Arbitraries.integers().between(0, 3).list().ofMaxSize(6);
    }

    private static int naive(List<Integer> a, int i, List<Integer> b, int j) {
        if (i == a.size()) {
            return b.size() - j;
        }
        if (j == b.size()) {
            return a.size() - i;
        }
        int substitute = naive(a, i + 1, b, j + 1) + (a.get(i).equals(b.get(j)) ? 0 : 1);
        return Math.min(substitute, Math.min(naive(a, i + 1, b, j), naive(a, i, b, j + 1)) + 1);
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void aShortRunOnAGeneratedFileLearnsToReverseWords() throws IOException {
        Random random = new Random(2);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            StringBuilder w = new StringBuilder();
            for (int k = 1 + random.nextInt(4); k > 0; k--) {
                w.append((char) ('a' + random.nextInt(5)));
            }
            sb.append(w).append('\t').append(new StringBuilder(w).reverse()).append('\n');
        }
        PairsTask task = PairsTask.read(file(sb.toString()), PairsTask.Units.CHARS, PairsTask.Units.CHARS, 1);
        Settings s = task.defaults().withSteps(600);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        Path run = dir.resolve("run");
        TrainingRun.train(task, s, run, 2, Kernels.defaults(), out);
        Evaluation.Result r = Testing.test(task, s, run, 0, Kernels.defaults(), out);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(r.exactMatch() >= 90, r.exactMatchLine() + "\n" + text);
        assertTrue(text.contains("error rate: "), text);
        List<String> lines = new ArrayList<>(text.lines().toList());
        assertTrue(lines.get(lines.size() - 1).equals(r.exactMatchLine()));
        // the checkpoint alone answers: units and vocabularies from its metadata, no --data
        CommandLineTest.Run p = CommandLineTest.run("pairs", "predict", "abca", "dd", "--out", run.toString());
        assertEquals(0, p.status(), p.err());
        List<String> withData = new ArrayList<>();
        try (dev.panamaformer.model.Transformer model = Testing.load(task, run, Kernels.defaults())) {
            for (Evaluation.Row row : Evaluation.predict(model, task, List.of(task.example("abca"), task.example("dd")), 2)) {
                withData.add(row.prediction());
            }
        }
        assertEquals(withData, p.out().lines().toList(), "the same answers as with the data file");
        CommandLineTest.mistake(CommandLineTest.run("pairs", "predict", "abz", "--out", run.toString()), 1, "unknown token 'z'");
        CommandLineTest.mistake(CommandLineTest.run("pairs", "predict", "ab", "--out", dir.resolve("none").toString()), 1,
                "no checkpoint at");
    }
}
