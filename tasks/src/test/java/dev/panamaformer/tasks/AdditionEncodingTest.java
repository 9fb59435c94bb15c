package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamaformer.model.Batch;
import dev.panamaformer.model.PositionIds;
import dev.panamaformer.model.TransformerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** The lengths variant of addition in its four encodings: what the model is given, in training and in tests. */
class AdditionEncodingTest {
    private static AdditionTask task(AdditionTask.Encoding encoding) {
        return new AdditionTask(AdditionTask.Variant.LENGTHS, encoding);
    }

    @net.jqwik.api.Example
    void eachEncodingWritesTheSumItsWay() {
        assertEquals(new Example("153+391", "544"), task(AdditionTask.Encoding.PLAIN).example(153, 391));
        assertEquals(new Example("153+391", "445"), task(AdditionTask.Encoding.REVERSED).example(153, 391));
        assertEquals(new Example("999+1=", "0001"), task(AdditionTask.Encoding.COUPLED).example(999, 1));
        assertEquals(new Example("999+1=", "0001"), task(AdditionTask.Encoding.COUPLED).example("999+1"));
        assertEquals(new Example("999+1=", "0001"), task(AdditionTask.Encoding.COUPLED).example("999+1="));
        assertEquals("1000", task(AdditionTask.Encoding.COUPLED).readable("0001"));
        // index hints: each digit after the letter of its significance, the answer reversed
        AdditionTask hinted = task(AdditionTask.Encoding.HINTED);
        assertEquals(new Example("c1b5a3+c3b9a1", "a4b4c5"), hinted.example(153, 391));
        assertEquals(new Example("c9b9a9+a1", "a0b0c0d1"), hinted.example("999+1"));
        assertEquals(new Example("c9b9a9+a1", "a0b0c0d1"), hinted.example("c9b9a9+a1"));
        assertEquals("1000", hinted.readable("a0b0c0d1"));
        assertNull(hinted.sourcePositions(hinted.example(1, 2)));
        var wrong = assertThrows(UsageException.class, () -> hinted.example("a9b9c9+a1"));
        assertTrue(wrong.getMessage().contains("c9b9a9+a1"), wrong.getMessage());
        assertThrows(UsageException.class, () -> hinted.example("z1q2+3"));
        // an answer whose letters do not run a, b, c, ... with a digit after each is shown as written, not read as a number
        assertEquals("a4c4b5", hinted.readable("a4c4b5"));
        assertEquals("a4b45", hinted.readable("a4b45"));
        assertEquals("54", hinted.readable("h4i5"));
        // validation and tests see a training example again at offset 0, its letters from a
        Example far = hinted.sample(new SplittableRandom(3));
        Example zero = hinted.atOffsetZero(far);
        assertEquals(0, zero.positionOffset());
        assertEquals(hinted.example(far.source().replaceAll("[a-z]", "")), zero);
        // the window: the coupled encoding's default, given way to by a position type with a bias of its own
        AdditionTask coupled = task(AdditionTask.Encoding.COUPLED);
        assertEquals(1, Main.settings(coupled, Flags.parse(List.of())).model(15, 15).attentionWindow());
        assertEquals(0, Main.settings(coupled, Flags.parse(List.of("--positions", "t5"))).model(15, 15).attentionWindow());
        assertEquals(2, Main.settings(coupled, Flags.parse(List.of("--window", "2"))).model(15, 15).attentionWindow());
        var both = assertThrows(UsageException.class, () -> Main.settings(coupled, Flags.parse(List.of("--positions", "alibi", "--window", "1"))));
        assertTrue(both.getMessage().contains("--window 0"), both.getMessage());
        assertEquals(TransformerConfig.Positions.ROPE, hinted.defaults().positions(), "hints: no untrained table rows");
        assertEquals("1000", task(AdditionTask.Encoding.PLAIN).readable("1000"));
        assertSame(AdditionTask.Encoding.COUPLED, new AdditionTask(AdditionTask.Variant.LENGTHS).encoding(), "the default");
        assertThrows(UsageException.class, () -> new AdditionTask(AdditionTask.Variant.REFERENCE, AdditionTask.Encoding.COUPLED));
        // validation on 1-3 digits says nothing of longer sums: the lengths variant trains every step
        assertTrue(!task(AdditionTask.Encoding.PLAIN).stopsEarly() && new AdditionTask(AdditionTask.Variant.REFERENCE).stopsEarly());
    }

    /**
     * A digit's id is its significance plus 1 plus the offset, its operand's marker the id above;
     * the answer's units digit is at 1 plus the offset.
     */
    @net.jqwik.api.Example
    void coupledIdsAreSignificances() {
        AdditionTask coupled = task(AdditionTask.Encoding.COUPLED);
        Example e = coupled.example(153, 91);
        assertArrayEquals(new int[] {3, 2, 1, 4, 2, 1, 3}, coupled.sourcePositions(e));
        assertEquals(1, coupled.targetStart(e));
        Example shifted = new Example(e.source(), e.target(), 5);
        assertArrayEquals(new int[] {8, 7, 6, 9, 7, 6, 8}, coupled.sourcePositions(shifted));
        assertEquals(6, coupled.targetStart(shifted));
        assertEquals(e, shifted.withoutOffset());
        assertNull(task(AdditionTask.Encoding.REVERSED).sourcePositions(e));
        assertEquals(0, task(AdditionTask.Encoding.PLAIN).targetStart(e));
    }

    /**
     * Training batches are of the trained lengths, with every id inside the default position table,
     * and each row's decoder ids run on from its start; the longest test (10-digit operands, offset
     * 0) fits the table too.
     */
    @Property(tries = 30)
    void trainingBatchesCarryTheirIdsInsideTheTable(@ForAll long seed) {
        AdditionTask coupled = task(AdditionTask.Encoding.COUPLED);
        int table = coupled.defaults().maxPositions();
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            examples.add(coupled.sample(r));
        }
        Batch batch = Batches.training(coupled, examples);
        assertEquals(8, batch.srcLength());
        assertEquals(5, batch.tgtLength());
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            assertTrue(e.positionOffset() >= 0 && e.positionOffset() <= coupled.maxOffset(), e.toString());
            int[] ids = coupled.sourcePositions(e);
            for (int j = 0; j < batch.srcLength(); j++) {
                int id = batch.srcPositions()[i * 8 + j];
                assertEquals(j < ids.length ? ids[j] : 0, id);
                assertTrue(id < table, "id " + id + " of " + e);
            }
            for (int j = 0; j < batch.tgtLength(); j++) {
                assertEquals(coupled.targetStart(e) + j, batch.tgtPositions()[i * 5 + j]);
                assertTrue(batch.tgtPositions()[i * 5 + j] < table);
            }
        }
        Example longest = coupled.lengthTestSet(10, 1, seed).examples().get(0);
        PositionIds decoding = Batches.positions(coupled, List.of(longest));
        assertEquals(1, decoding.targetStart()[0]);
        assertTrue(decoding.targetStart()[0] + Batches.decoderLength(coupled) <= table);
        assertSame(PositionIds.SEQUENTIAL, Batches.positions(task(AdditionTask.Encoding.PLAIN), List.of(longest)));
    }

    /** Every encoding tests the same pairs; the length sets hold operands of exactly their digits. */
    @net.jqwik.api.Example
    void theTestSetsAreTheSameSumsInEveryEncoding() {
        List<String> sources = null;
        for (AdditionTask.Encoding encoding : AdditionTask.Encoding.values()) {
            List<String> these = task(encoding).testSet(200, 9).examples().stream().map(e -> e.source().replaceAll("[a-z=]", "")).toList();
            if (sources != null) {
                assertEquals(sources, these, encoding.toString());
            }
            sources = these;
        }
        List<Task.TestSet> sets = task(AdditionTask.Encoding.COUPLED).additionalTests(20, 3);
        assertEquals(AdditionTask.TEST_DIGITS.length, sets.size());
        for (int k = 0; k < sets.size(); k++) {
            int digits = AdditionTask.TEST_DIGITS[k];
            for (Example e : sets.get(k).examples()) {
                assertTrue(e.source().matches("\\d{" + digits + "}\\+\\d{" + digits + "}="), e.source());
                assertEquals(0, e.positionOffset());
            }
        }
    }

    /** Hinted training examples: letters from a random offset, one per significance, the same in operands and answer. */
    @net.jqwik.api.Property(tries = 50)
    void hintsNameTheSignificanceFromTheOffset(@net.jqwik.api.ForAll long seed) {
        AdditionTask hinted = task(AdditionTask.Encoding.HINTED);
        Example e = hinted.sample(new java.util.SplittableRandom(seed));
        int o = e.positionOffset();
        assertTrue(o >= 0 && o <= hinted.maxOffset(), "offset " + o);
        String[] operands = e.source().split("\\+");
        for (String operand : operands) {
            int n = operand.length() / 2;
            for (int i = 0; i < n; i++) {
                assertEquals((char) ('a' + o + n - 1 - i), operand.charAt(2 * i), e.source());
                assertTrue(Character.isDigit(operand.charAt(2 * i + 1)), e.source());
            }
        }
        for (int i = 0; i < e.target().length() / 2; i++) {
            assertEquals((char) ('a' + o + i), e.target().charAt(2 * i), e.target());
        }
        assertTrue(e.target().length() % 2 == 0 && e.source().replace("+", "").length() % 2 == 0, e.toString());
        String[] bare = e.source().replaceAll("[a-z]", "").split("\\+");
        assertEquals(Long.parseLong(bare[0]) + Long.parseLong(bare[1]), Long.parseLong(hinted.readable(e.target())), e.toString());
        assertTrue(e.source().length() <= hinted.trainingSourceLength() && e.target().length() <= hinted.trainingTargetLength());
        assertTrue((char) ('a' + o + hinted.trainingTargetLength() / 2 - 1) < 'a' + AdditionTask.HINTS, "the top letter exists");
    }

    /** Digits are scored as the number reads, whatever order the model writes them in. */
    @net.jqwik.api.Example
    void digitsAreScoredFromTheUnitsInEveryEncoding() {
        AdditionTask reversed = task(AdditionTask.Encoding.REVERSED);
        Evaluation.Result r = Evaluation.score(List.of(new Evaluation.Row(reversed.example(50, 60), "001"),
                new Evaluation.Row(reversed.example(9, 9), "8")), reversed);
        assertEquals(0, r.correct());
        assertEquals(5, r.symbolsTotal());
        assertEquals(3, r.symbolsCorrect(), "1_0 of 110 against 100; 8 of 18");
    }
}
