package dev.panamaformer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Off-heap float32 storage: a 64-byte aligned {@link MemorySegment} with a shape.
 *
 * <p>The memory belongs to the {@link Arena} the caller passed in and lives as long as that
 * arena; a tensor never frees anything itself. Elements are stored row-major in native byte
 * order. Views ({@link #view}) share the memory of their parent.
 */
public final class FloatTensor {
    /** Cache-line alignment, which is also the width of an AVX-512 register. */
    public static final long ALIGNMENT = 64;

    private final MemorySegment segment;
    private final int[] shape;
    private final long size;
    /** Whether threads other than the creator may touch the memory (false for a confined arena). */
    private final boolean shared;

    private FloatTensor(MemorySegment segment, int[] shape, long size) {
        this.segment = segment;
        this.shape = shape;
        this.size = size;
        this.shared = segment.isAccessibleBy(SOME_OTHER_THREAD);
    }

    /** Never started: only asked whether a segment is confined to its creator. */
    private static final Thread SOME_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /** Allocates a zero-filled tensor of the given shape in {@code arena}. */
    public static FloatTensor allocate(Arena arena, int... shape) {
        if (arena == null) {
            throw new IllegalArgumentException("arena is null");
        }
        long size = sizeOf(shape);
        MemorySegment segment = arena.allocate(Math.max(1, size) * Float.BYTES, ALIGNMENT);
        return new FloatTensor(segment.asSlice(0, size * Float.BYTES), shape.clone(), size);
    }

    /** Allocates a tensor of the given shape holding a copy of {@code values}. */
    public static FloatTensor of(Arena arena, float[] values, int... shape) {
        FloatTensor t = allocate(arena, shape);
        t.copyFrom(values);
        return t;
    }

    /** Allocates a one-dimensional tensor holding a copy of {@code values}. */
    public static FloatTensor of(Arena arena, float[] values) {
        return of(arena, values, values.length);
    }

    private static long sizeOf(int[] shape) {
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension, got shape " + Arrays.toString(shape));
        }
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            size = Math.multiplyExact(size, d);
        }
        if (size > Long.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
        }
        return size;
    }

    /**
     * A tensor of the given shape over {@code [offset, offset + size)} of this one's elements,
     * sharing its memory.
     */
    public FloatTensor view(long offset, int... shape) {
        long viewSize = sizeOf(shape);
        if (offset < 0 || offset > size - viewSize) {
            throw new IllegalArgumentException("view of shape " + Arrays.toString(shape) + " at offset " + offset
                    + " does not fit in a tensor of shape " + Arrays.toString(this.shape));
        }
        return new FloatTensor(segment.asSlice(offset * Float.BYTES, viewSize * Float.BYTES), shape.clone(), viewSize);
    }

    /** This tensor's memory read as another shape with the same number of elements. */
    public FloatTensor reshape(int... shape) {
        if (sizeOf(shape) != size) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(this.shape) + " to " + Arrays.toString(shape));
        }
        return new FloatTensor(segment, shape.clone(), size);
    }

    /** The number of float elements. */
    public long size() {
        return size;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** The size of dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The underlying memory; its byte size is {@code 4 * size()}. */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * Whether any thread may access this tensor; false when its arena is confined, in which case
     * kernels run on the calling thread alone.
     */
    public boolean isShared() {
        return shared;
    }

    /** Whether the arena that owns this tensor's memory is still open. */
    public boolean isAlive() {
        return segment.scope().isAlive();
    }

    public float get(long index) {
        checkIndex(index);
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    public void set(long index, float value) {
        checkIndex(index);
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
    }

    private void checkIndex(long index) {
        checkAlive("tensor");
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " out of bounds for tensor of shape " + Arrays.toString(shape));
        }
    }

    /** Copies all of {@code values} into this tensor; the lengths must match. */
    public void copyFrom(float[] values) {
        if (values.length != size) {
            throw new IllegalArgumentException("cannot copy " + values.length + " floats into a tensor of shape "
                    + Arrays.toString(shape) + " (" + size + " elements)");
        }
        checkAlive("tensor");
        MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    /** Copies all of {@code other} into this tensor; the sizes must match. */
    public void copyFrom(FloatTensor other) {
        if (other.size != size) {
            throw new IllegalArgumentException("cannot copy a tensor of shape " + Arrays.toString(other.shape)
                    + " into one of shape " + Arrays.toString(shape));
        }
        checkAlive("tensor");
        other.checkAlive("source tensor");
        MemorySegment.copy(other.segment, 0, segment, 0, size * Float.BYTES);
    }

    /** Sets every element to {@code value}. */
    public void fill(float value) {
        checkAlive("tensor");
        if (value == 0f) {
            segment.fill((byte) 0);
        } else {
            for (long i = 0; i < size; i++) {
                segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
            }
        }
    }

    /** A heap copy of the elements. */
    public float[] toArray() {
        checkAlive("tensor");
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of shape " + Arrays.toString(shape) + " is too large for a float[]");
        }
        return segment.toArray(ValueLayout.JAVA_FLOAT);
    }

    void checkAlive(String name) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException(name + " of shape " + Arrays.toString(shape) + " belongs to an arena that is already closed");
        }
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
