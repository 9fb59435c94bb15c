package dev.panamaformer.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range (plus string metadata under {@code __metadata__}), then
 * the raw little-endian data. Reading checks every field against the file before touching data,
 * so a truncated or corrupt file ends in {@link CheckpointException}, never in a crash or a huge
 * allocation. Writing goes to a temporary file that replaces the target only when complete.
 */
public final class SafeTensors implements AutoCloseable {
    /** Headers beyond this are refused rather than read. */
    static final long MAX_HEADER_BYTES = 64L << 20;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A tensor's place in the file. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates a file; the caller closes it. */
    public static SafeTensors open(Path path) throws IOException {
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            // a FIFO would block the read forever, a directory fail with the system's bare "No such device"
            throw new CheckpointException("reading " + path + " failed: it is " + (Files.isDirectory(path) ? "a directory" : "not a regular file")
                    + ", not a checkpoint file");
        }
        if (Files.exists(path) && !Files.isReadable(path)) {
            throw new CheckpointException("reading " + path + " failed: permission denied");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointException(path + " is " + size + " bytes, too short for a safetensors file");
            }
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength <= 0 || headerLength > size - 8 || headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(path + ": header length " + headerLength + " does not fit a file of " + size
                        + " bytes (truncated or not safetensors)");
            }
            byte[] header = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = file.asSlice(8 + headerLength);
            Object parsed;
            try {
                parsed = Json.parse(new String(header, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(path + ": corrupt header: " + e.getMessage());
            }
            SafeTensors st = parse(path, arena, data, parsed);
            arena = null; // owned by st from here on
            return st;
        } catch (IOException | RuntimeException e) {
            if (arena != null) {
                arena.close();
            }
            throw e;
        }
    }

    private static SafeTensors parse(Path path, Arena arena, MemorySegment data, Object parsed) {
        if (!(parsed instanceof Map<?, ?> header)) {
            throw new CheckpointException(path + ": header is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw new CheckpointException(path + ": __metadata__ is not an object");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String s)) {
                        throw new CheckpointException(path + ": metadata '" + m.getKey() + "' is not a string");
                    }
                    metadata.put((String) m.getKey(), s);
                }
                continue;
            }
            entries.put(name, entry(path, name, e.getValue(), data.byteSize()));
        }
        checkLayout(path, entries.values(), data.byteSize());
        return new SafeTensors(path, arena, data, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    /**
     * The format's rule for the data section: the tensors' byte ranges, in offset order, follow
     * one another with no gap and no overlap, and the last one ends where the file ends. So no
     * two tensors share bytes and no bytes hide after them.
     */
    private static void checkLayout(Path path, java.util.Collection<Entry> entries, long dataBytes) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(java.util.Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : byOffset) {
            if (e.begin() < at) {
                throw new CheckpointException(path + ": tensor '" + e.name() + "' at bytes [" + e.begin() + ", " + e.end()
                        + ") overlaps the tensor before it, which ends at " + at + " (safetensors tensors do not share bytes)");
            }
            if (e.begin() > at) {
                throw new CheckpointException(path + ": " + (e.begin() - at) + " bytes before tensor '" + e.name()
                        + "' belong to no tensor (safetensors tensors follow one another without gaps)");
            }
            at = e.end();
        }
        if (at != dataBytes) {
            throw new CheckpointException(path + ": " + (dataBytes - at) + " bytes after the last tensor belong to no tensor"
                    + " (the file was appended to, or is not what its header says)");
        }
    }

    private static Entry entry(Path path, String name, Object value, long dataBytes) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new CheckpointException(path + ": tensor '" + name + "' is not described by an object");
        }
        if (!(m.get("dtype") instanceof String dtype) || dtypeBytes(dtype) == 0) {
            throw new CheckpointException(path + ": tensor '" + name + "' has dtype " + m.get("dtype") + "; only F32, I32 and I64 are read");
        }
        if (!(m.get("shape") instanceof List<?> dims) || dims.size() > 8) {
            throw new CheckpointException(path + ": tensor '" + name + "' has no valid shape");
        }
        int[] shape = new int[dims.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new CheckpointException(path + ": tensor '" + name + "' has a bad dimension " + dims.get(i));
            }
            shape[i] = (int) (long) d;
            elements = Math.multiplyHigh(elements, d) != 0 || elements * d > dataBytes ? Long.MAX_VALUE : elements * d;
        }
        if (!(m.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
            throw new CheckpointException(path + ": tensor '" + name + "' has no valid data_offsets");
        }
        if (begin < 0 || end < begin || end > dataBytes) {
            throw new CheckpointException(path + ": tensor '" + name + "' spans bytes [" + begin + ", " + end + ") of "
                    + dataBytes + " (truncated or corrupt)");
        }
        if (elements == Long.MAX_VALUE || end - begin != elements * dtypeBytes(dtype)) {
            throw new CheckpointException(path + ": tensor '" + name + "' of shape " + java.util.Arrays.toString(shape) + " and dtype "
                    + dtype + " does not match its " + (end - begin) + " bytes");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "I64" -> 8;
            default -> 0;
        };
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(path + " has no tensor '" + name + "'");
        }
        return e;
    }

    /** The F32 tensor {@code name}. */
    public float[] floats(String name) {
        Entry e = floatEntry(name);
        float[] out = new float[(int) e.elements()];
        try {
            MemorySegment.copy(data, FLOAT, e.begin(), out, 0, out.length);
        } catch (InternalError fault) {
            throw changedWhileReading(fault);
        }
        return out;
    }

    /** The index of the first NaN or infinity in the F32 tensor {@code name}, read in place; -1 if none. */
    public long firstNonFinite(String name) {
        Entry e = floatEntry(name);
        try {
            for (long i = 0, n = e.elements(); i < n; i++) {
                if (!Float.isFinite(data.get(FLOAT, e.begin() + 4 * i))) {
                    return i;
                }
            }
        } catch (InternalError fault) {
            throw changedWhileReading(fault);
        }
        return -1;
    }

    /** Element {@code index} of the F32 tensor {@code name}. */
    public float floatAt(String name, long index) {
        Entry e = floatEntry(name);
        java.util.Objects.checkIndex(index, e.elements());
        try {
            return data.get(FLOAT, e.begin() + 4 * index);
        } catch (InternalError fault) {
            throw changedWhileReading(fault);
        }
    }

    private Entry floatEntry(String name) {
        Entry e = entry(name);
        if (!e.dtype().equals("F32")) {
            throw new CheckpointException(path + ": tensor '" + name + "' is " + e.dtype() + ", not F32");
        }
        return e;
    }

    /**
     * A mapped file cut short (or rewritten) by another process after it was opened: the JVM
     * reports the page fault as an InternalError, which is not the caller's error to handle.
     */
    private CheckpointException changedWhileReading(InternalError fault) {
        return new CheckpointException("reading " + path + " failed: the file changed or was truncated while it was read ("
                + fault.getMessage() + ")");
    }

    /** The I32 or I64 tensor {@code name}, as ints. */
    public int[] ints(String name) {
        Entry e = entry(name);
        int[] out = new int[(int) e.elements()];
        try {
            readInts(e, out);
        } catch (InternalError fault) {
            throw changedWhileReading(fault);
        }
        return out;
    }

    private void readInts(Entry e, int[] out) {
        String name = e.name();
        switch (e.dtype()) {
            case "I32" -> MemorySegment.copy(data, ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), e.begin(), out, 0, out.length);
            case "I64" -> {
                for (int i = 0; i < out.length; i++) {
                    long v = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), e.begin() + 8L * i);
                    if (v != (int) v) {
                        throw new CheckpointException(path + ": tensor '" + name + "' holds " + v + ", beyond int");
                    }
                    out[i] = (int) v;
                }
            }
            default -> throw new CheckpointException(path + ": tensor '" + name + "' is " + e.dtype() + ", not an integer type");
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Collects tensors and metadata, then writes them in one go with {@link #write(Path)}. */
    public static final class Writer {
        private record Pending(String dtype, int[] shape, byte[] bytes) {
        }

        private final Map<String, Pending> tensors = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        public Writer floats(String name, float[] values, int... shape) {
            checkSize(name, values.length, shape);
            MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * 4]);
            MemorySegment.copy(values, 0, bytes, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
            return put(name, new Pending("F32", shape.clone(), bytes.toArray(ValueLayout.JAVA_BYTE)));
        }

        public Writer ints(String name, int[] values, int... shape) {
            checkSize(name, values.length, shape);
            MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * 4]);
            MemorySegment.copy(values, 0, bytes, ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
            return put(name, new Pending("I32", shape.clone(), bytes.toArray(ValueLayout.JAVA_BYTE)));
        }

        public Writer metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        private Writer put(String name, Pending p) {
            if (name.equals("__metadata__") || tensors.put(name, p) != null) {
                throw new IllegalArgumentException("tensor name '" + name + "' is reserved or used twice");
            }
            return this;
        }

        private static void checkSize(String name, int length, int[] shape) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (n != length) {
                throw new IllegalArgumentException("tensor '" + name + "' has " + length + " values for shape "
                        + java.util.Arrays.toString(shape));
            }
        }

        /**
         * Writes the file atomically ({@link AtomicFile}): a failure leaves any previous file at
         * {@code target} as it was.
         */
        public void write(Path target) throws IOException {
            Map<String, Object> header = new LinkedHashMap<>();
            if (!metadata.isEmpty()) {
                header.put("__metadata__", metadata);
            }
            long offset = 0;
            for (Map.Entry<String, Pending> e : tensors.entrySet()) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("dtype", e.getValue().dtype());
                List<Object> shape = new ArrayList<>();
                for (int s : e.getValue().shape()) {
                    shape.add((long) s);
                }
                d.put("shape", shape);
                d.put("data_offsets", List.of(offset, offset + e.getValue().bytes().length));
                offset += e.getValue().bytes().length;
                header.put(e.getKey(), d);
            }
            byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) / 8 * 8;
            byte[] head = new byte[8 + padded];
            MemorySegment.ofArray(head).set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, padded);
            System.arraycopy(json, 0, head, 8, json.length);
            java.util.Arrays.fill(head, 8 + json.length, head.length, (byte) ' ');

            AtomicFile.write(target, out -> {
                out.write(head);
                for (Pending p : tensors.values()) {
                    out.write(p.bytes());
                }
            });
        }
    }
}
