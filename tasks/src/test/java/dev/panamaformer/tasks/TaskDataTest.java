package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.model.Batch;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class TaskDataTest {

    @Property(tries = 200)
    void additionTargetsAreTheSums(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (AdditionTask.Variant v : AdditionTask.Variant.values()) {
            AdditionTask task = new AdditionTask(v);
            dev.panamaformer.tasks.Example e = task.sample(r);
            String[] parts = e.source().replace("=", "").split("\\+");
            long a = Long.parseLong(parts[0]), b = Long.parseLong(parts[1]);
            assertEquals(a + b, Long.parseLong(task.readable(e.target())));
            if (v == AdditionTask.Variant.REFERENCE) {
                assertTrue(a < 500 && b < 500 && e.source().length() == 7 && e.target().length() == 3, e.toString());
            } else {
                assertTrue(a < 1000 && b < 1000, e.toString());
                assertFalse(parts[0].length() > 1 && parts[0].startsWith("0"), "no leading zeros: " + e);
            }
        }
    }

    @Example
    void copyLengthsTrainsOnOneToTwentyAndTestsAtThirtyAndForty() {
        CopyTask task = new CopyTask(20, CopyTask.Variant.LENGTHS);
        SplittableRandom r = new SplittableRandom(5);
        Set<Integer> lengths = new HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            dev.panamaformer.tasks.Example e = task.sample(r);
            assertEquals(e.source(), e.target());
            lengths.add(task.source().encode(e.source()).length);
        }
        assertEquals(20, lengths.size(), "every length 1 to 20 drawn: " + lengths);
        assertTrue(lengths.stream().allMatch(n -> n >= 1 && n <= 20), lengths.toString());
        assertEquals(20, task.trainingSourceLength());
        assertEquals(40, task.sourceLength());
        assertFalse(task.fixedLength(), "variable lengths end with the end token");
        assertEquals(41, task.defaults().model().maxPositions(), "positions for the longest test and its end token");
        List<Task.TestSet> beyond = task.additionalTests(30, 9);
        assertEquals(2, beyond.size());
        for (int k = 0; k < 2; k++) {
            int n = CopyTask.TEST_LENGTHS[k];
            assertEquals(30, beyond.get(k).examples().size());
            for (dev.panamaformer.tasks.Example e : beyond.get(k).examples()) {
                assertEquals(n, task.source().encode(e.source()).length);
                assertEquals(e.source(), e.target());
            }
            // a batch decodes as many steps as its longest copy and its end token, no more
            assertEquals(n + 1, task.decodeLength(beyond.get(k).examples()));
        }
        assertEquals(20, new CopyTask(20).decodeLength(beyond.get(1).examples()), "the reference decodes its one length");
        assertTrue(new CopyTask(20).additionalTests(30, 9).isEmpty());
    }

    @Example
    void theReferenceAdditionExampleAndTheWholeSpace() {
        AdditionTask task = new AdditionTask(AdditionTask.Variant.REFERENCE);
        assertEquals(new dev.panamaformer.tasks.Example("153+391", "544"), task.example(153, 391));
        assertEquals(new dev.panamaformer.tasks.Example("310+098", "408"), task.example(310, 98));
        Task.TestSet all = task.testSet(0, 0);
        assertEquals(250_000, all.examples().size());
        assertEquals(250_000, new HashSet<>(all.examples()).size());
        AdditionTask lengths = new AdditionTask(AdditionTask.Variant.LENGTHS);
        for (dev.panamaformer.tasks.Example e : lengths.lengthTestSet(5, 50, 1).examples()) {
            assertTrue(e.source().matches("[1-9]\\d{4}\\+[1-9]\\d{4}="), e.source());
        }
    }

    @Example
    void theParserPrintsTheReferencesAdditionalTestsCorrectly() {
        ParserTask task = new ParserTask(ParserTask.Variant.SIMPLE);
        assertEquals("ASSIGN x ADD 1 2", task.parse("x=1+2"));
        assertEquals("ASSIGN y MUL 3 4", task.parse("y=3*4"));
        assertEquals("ASSIGN z SUB 5 1", task.parse("z=5-1"));
        assertEquals("ASSIGN x DIV 2 3", task.parse("x=2/3"));
        assertEquals(1200, new HashSet<>(task.testSet(0, 0).examples()).size());
        assertThrows(IllegalArgumentException.class, () -> task.parse("x=(1+2)*3"));
    }

    @Example
    void nestedTreesFollowPrecedenceAndAssociativity() {
        ParserTask task = new ParserTask(ParserTask.Variant.NESTED);
        assertEquals("( ASSIGN x ( MUL ( ADD 3 y ) 12 ) )", task.parse("x=(3+y)*12"));
        assertEquals("( ASSIGN z ( SUB ( SUB x y ) 1 ) )", task.parse("z=x-y-1"));
        assertEquals("( ASSIGN z ( SUB x ( SUB y 1 ) ) )", task.parse("z=x-(y-1)"));
        assertEquals("( ASSIGN y ( ADD 1 ( MUL 2 3 ) ) )", task.parse("y=1+2*3"));
        assertEquals("( ASSIGN y ( DIV ( DIV 8 4 ) 2 ) )", task.parse("y=8/4/2"));
        var e = assertThrows(IllegalArgumentException.class, () -> task.parse("x=(1+2"));
        assertTrue(e.getMessage().contains("position"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> task.parse("x=100+1"));
        assertThrows(IllegalArgumentException.class, () -> task.parse("x=1+"));
    }

    /** Rendering a random tree as text and parsing the text gives the tree back. */
    @Property(tries = 500)
    void nestedSourcesParseBackToTheirTrees(@ForAll long seed) {
        ParserTask task = new ParserTask(ParserTask.Variant.NESTED);
        dev.panamaformer.tasks.Example e = task.sample(new SplittableRandom(seed));
        assertEquals(e.target(), task.parse(e.source()), e.source());
        assertFalse(ParserTask.heldOut(e.source()), "training never draws a held-out expression");
    }

    @Example
    void heldOutExpressionsAreATenthAndDisjointFromTraining() {
        ParserTask task = new ParserTask(ParserTask.Variant.NESTED);
        List<dev.panamaformer.tasks.Example> test = task.testSet(2000, 3).examples();
        Set<String> sources = new HashSet<>();
        for (dev.panamaformer.tasks.Example e : test) {
            assertTrue(ParserTask.heldOut(e.source()));
            assertTrue(sources.add(e.source()), "distinct");
            assertEquals(e.target(), task.parse(e.source()));
        }
        int held = 0;
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 20_000; i++) {
            held += ParserTask.heldOut("x=" + r.nextInt(1_000_000)) ? 1 : 0;
        }
        assertEquals(2000, held, 200, "about a tenth of all texts are held out");
    }

    @Property(tries = 50)
    void batchesShiftTargetsBehindTheStartToken(@ForAll @IntRange(min = 1, max = 8) int b, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Task task : TokenizerPropertiesTest.TASKS) {
            List<dev.panamaformer.tasks.Example> ex = new java.util.ArrayList<>();
            for (int i = 0; i < b; i++) {
                ex.add(task.sample(r));
            }
            Batch batch = Batches.of(task, ex);
            int t = Batches.decoderLength(task);
            for (int i = 0; i < b; i++) {
                int[] y = task.target().encode(ex.get(i).target());
                assertEquals(Vocabulary.BOS, batch.tgtIn()[i * t]);
                for (int j = 0; j < y.length; j++) {
                    assertEquals(y[j], batch.tgtOut()[i * t + j]);
                    if (j + 1 < t) {
                        assertEquals(y[j], batch.tgtIn()[i * t + j + 1]);
                    }
                }
                if (!task.fixedLength()) {
                    assertEquals(Vocabulary.EOS, batch.tgtOut()[i * t + y.length], task.name() + " ends with </s>");
                    for (int j = y.length + 1; j < t; j++) {
                        assertEquals(Vocabulary.PAD, batch.tgtOut()[i * t + j]);
                    }
                }
                int[] x = task.source().encode(ex.get(i).source());
                assertArrayEquals(x, java.util.Arrays.copyOfRange(batch.src(), i * task.sourceLength(), i * task.sourceLength() + x.length));
            }
        }
    }

    @Example
    void scoresCountExactMatchesAndDigitsFromTheRight() {
        List<Evaluation.Row> rows = List.of(
                new Evaluation.Row(new dev.panamaformer.tasks.Example("1+2", "3"), "3"),
                new Evaluation.Row(new dev.panamaformer.tasks.Example("50+60", "110"), "100"),
                new Evaluation.Row(new dev.panamaformer.tasks.Example("9+9", "18"), "8"));
        Evaluation.Result r = Evaluation.score(rows, new AdditionTask(AdditionTask.Variant.REFERENCE));
        assertEquals(1, r.correct());
        assertEquals(3, r.total());
        assertEquals(6, r.symbolsTotal());
        assertEquals(4, r.symbolsCorrect(), "3; 1_0 right of 110 vs 100; 8 of 18");
        assertEquals("exact match: 33.33% (1/3)", r.exactMatchLine());
        assertEquals("99.99", Evaluation.percent(100.0 * 9999 / 10000));
        assertEquals("99.99", Evaluation.percent(100.0 * 99_999 / 100_000), "never rounds up to 100");
        assertEquals("100", Evaluation.percent(100.0));
    }
}
