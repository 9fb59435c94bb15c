package dev.panamaformer.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class TokenizerPropertiesTest {
    static final List<Task> TASKS = List.of(new CopyTask(20), new AdditionTask(AdditionTask.Variant.REFERENCE),
            new AdditionTask(AdditionTask.Variant.LENGTHS), new ParserTask(ParserTask.Variant.SIMPLE),
            new ParserTask(ParserTask.Variant.NESTED));

    @Property(tries = 300)
    void everyTokenizerRoundTrips(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Task task : TASKS) {
            dev.panamaformer.tasks.Example e = task.sample(r);
            int[] src = task.source().encode(e.source()), tgt = task.target().encode(e.target());
            assertEquals(e.source(), task.source().decode(src), task.name() + " source");
            assertEquals(e.target(), task.target().decode(tgt), task.name() + " target");
            for (int id : src) {
                assertTrue(id >= 3, task.name() + ": data tokens never take the ids of <pad>, <s> or </s>");
            }
            for (int id : tgt) {
                assertTrue(id >= 3);
            }
            assertTrue(src.length <= task.sourceLength() && tgt.length <= task.targetLength(), task.name() + " lengths");
        }
    }

    @Example
    void theDigitZeroIsNotPadding() {
        Tokenizer t = new AdditionTask(AdditionTask.Variant.REFERENCE).source();
        int[] ids = t.encode("000+010");
        assertEquals(7, ids.length);
        for (int id : ids) {
            assertTrue(id != Vocabulary.PAD && id != Vocabulary.BOS && id != Vocabulary.EOS);
        }
        assertEquals("000+010", t.decode(ids));
        assertEquals("000+010", t.decode(new int[] {Vocabulary.BOS, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6],
            Vocabulary.EOS, Vocabulary.PAD}), "specials are dropped when decoding");
    }

    @Example
    void unknownTokensAreNamed() {
        Tokenizer t = new ParserTask(ParserTask.Variant.SIMPLE).source();
        var e = assertThrows(IllegalArgumentException.class, () -> t.encode("w=1+2"));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Vocabulary(List.of("a", "a")));
        assertThrows(IllegalArgumentException.class, () -> t.vocabulary().token(999));
    }
}
