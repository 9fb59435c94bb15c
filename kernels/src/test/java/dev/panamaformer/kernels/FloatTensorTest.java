package dev.panamaformer.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class FloatTensorTest {

    @Property(tries = 50)
    void allocationsAreAlignedZeroedAndSized(@ForAll @IntRange(max = 50) int rows, @ForAll @IntRange(max = 50) int cols) {
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = FloatTensor.allocate(arena, rows, cols);
            assertEquals((long) rows * cols, t.size());
            assertEquals(0, t.segment().address() % FloatTensor.ALIGNMENT);
            assertArrayEquals(new float[rows * cols], t.toArray());
            assertArrayEquals(new int[] {rows, cols}, t.shape());
        }
    }

    @Test
    void copiesRoundTripAndViewsShareMemory() {
        try (Arena arena = Arena.ofConfined()) {
            float[] values = {1, 2, 3, 4, 5, 6};
            FloatTensor t = FloatTensor.of(arena, values, 2, 3);
            assertArrayEquals(values, t.toArray());
            FloatTensor row = t.view(3, 3);
            row.set(0, 40f);
            assertEquals(40f, t.get(3));
            assertArrayEquals(new float[] {40, 5, 6}, row.toArray());
            assertEquals(6, t.reshape(6).size());
            FloatTensor copy = FloatTensor.allocate(arena, 6);
            copy.copyFrom(t);
            assertArrayEquals(t.toArray(), copy.toArray());
            copy.fill(2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f}, copy.toArray());
        }
    }

    @Test
    void badShapesAndIndicesAreClearErrors() {
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> FloatTensor.allocate(arena, 3, -2));
            assertTrue(e.getMessage().contains("[3, -2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> FloatTensor.allocate(arena));
            assertThrows(IllegalArgumentException.class, () -> FloatTensor.allocate(null, 3));
            assertThrows(ArithmeticException.class, () -> FloatTensor.allocate(arena, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
            FloatTensor t = FloatTensor.allocate(arena, 2, 3);
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5]));
            assertThrows(IllegalArgumentException.class, () -> t.view(4, 3));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(7));
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(6));
            assertThrows(IndexOutOfBoundsException.class, () -> t.set(-1, 0f));
        }
    }

    @Test
    void aClosedArenaIsReportedNotCrashedOn() {
        Arena arena = Arena.ofShared();
        FloatTensor t = FloatTensor.allocate(arena, 4);
        assertTrue(t.isAlive() && t.isShared());
        arena.close();
        assertFalse(t.isAlive());
        var e = assertThrows(IllegalStateException.class, () -> t.get(0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, t::toArray);
        assertThrows(IllegalStateException.class, () -> Kernels.defaults().activations().relu(t, t, 4));
        assertThrows(IllegalStateException.class, () -> Kernels.defaults().elementwise().sum(t, 4));
    }
}
