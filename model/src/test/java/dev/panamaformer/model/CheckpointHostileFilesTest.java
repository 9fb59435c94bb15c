package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Checkpoints that are valid JSON and plausible safetensors but not what the format or the
 * model allows: every one ends in a {@link CheckpointException} that names the file, before the
 * loader allocates more than the file holds, or loads to exactly the saved parameters.
 */
class CheckpointHostileFilesTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.SINUSOIDAL);
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void writeOne() throws IOException {
        dir = TestModels.directoryWithCheckpoint("checkpoint-hostile", CONFIG, 7);
        valid = Files.readAllBytes(dir.resolve("valid.safetensors"));
    }

    @AfterContainer
    static void clean() throws IOException {
        TestModels.deleteTree(dir);
    }

    private static int headerLength(byte[] file) {
        return (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> header() {
        String json = new String(valid, 8, headerLength(valid), StandardCharsets.UTF_8);
        return (Map<String, Object>) Json.parse(json);
    }

    /** The valid file's data after a header changed by {@code edit}, then {@code extra} bytes. */
    private static byte[] withHeader(Consumer<Map<String, Object>> edit, byte[] extra) {
        Map<String, Object> header = header();
        edit.accept(header);
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int data = valid.length - 8 - headerLength(valid);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data + extra.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(valid, 8 + headerLength(valid), data).put(extra);
        return out.array();
    }

    /** The header with config keys set to new values. */
    @SuppressWarnings("unchecked")
    private static Consumer<Map<String, Object>> config(Map<String, Object> changes) {
        return header -> {
            Map<String, Object> meta = (Map<String, Object>) header.get("__metadata__");
            Map<String, Object> config = new LinkedHashMap<>((Map<String, Object>) Json.parse((String) meta.get("config")));
            config.putAll(changes);
            meta.put("config", Json.write(config));
        };
    }

    @SuppressWarnings("unchecked")
    private static List<Object> offsets(Map<String, Object> header, String name) {
        return (List<Object>) ((Map<String, Object>) header.get(name)).get("data_offsets");
    }

    private static Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "hostile", ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    private static CheckpointException refused(byte[] bytes) throws IOException {
        Path p = write(bytes);
        try {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(p).close());
            assertTrue(e.getMessage().contains(p.toString()), "the message names the file: " + e.getMessage());
            return e;
        } finally {
            Files.delete(p);
        }
    }

    @Example
    void aConfigAskingForMoreParametersThanTheFileHoldsIsRefusedBeforeTheModelIsBuilt() throws IOException {
        List<Map<String, Object>> configs = List.of(
                Map.of("hidden_size", 4096L, "intermediate_size", 16384L, "num_hidden_layers", 200L),
                Map.of("num_hidden_layers", 100_000L),
                Map.of("intermediate_size", 1_048_576L),
                Map.of("src_vocab_size", 2_000_000_000L),
                Map.of("position_embedding_type", "learned", "max_position_embeddings", 2_147_483_647L));
        for (Map<String, Object> c : configs) {
            CheckpointException e = refused(withHeader(config(c), new byte[0]));
            // refused by the parameter budget, i.e. before more than the file's worth was allocated
            assertTrue(e.getMessage().contains("does not fit the"), c + ": " + e.getMessage());
        }
    }

    /**
     * A position type this version does not know (a typo, an upper-case spelling, one of
     * another library) is refused, naming the key and the types it knows.
     */
    @Example
    void anUnknownPositionTypeIsRefusedByName() throws IOException {
        for (String type : new String[] {"t6", "alibi2", "rotary", "ROPE ", ""}) {
            CheckpointException e = refused(withHeader(config(Map.of("position_embedding_type", type)), new byte[0]));
            assertTrue(e.getMessage().contains("position_embedding_type"), type + ": " + e.getMessage());
            String known = e.getMessage().toLowerCase(java.util.Locale.ROOT);
            assertTrue(known.contains("rope_cross") && known.contains("t5") && known.contains("alibi"), type + ": " + e.getMessage());
        }
    }

    /**
     * A T5 checkpoint whose bias tables are missing (the header names them otherwise, so the
     * file still holds the right number of values) is refused, naming the missing table.
     */
    @Example
    void aT5CheckpointWithoutItsBiasTableIsRefusedByName() throws IOException {
        TransformerConfig t5 = TestModels.tiny(TransformerConfig.Activation.RELU, TransformerConfig.Positions.T5);
        Path t5Dir = TestModels.directoryWithCheckpoint("checkpoint-t5", t5, 3);
        try {
            byte[] file = Files.readAllBytes(t5Dir.resolve("valid.safetensors"));
            int length = headerLength(file);
            String json = new String(file, 8, length, StandardCharsets.UTF_8);
            assertTrue(json.contains("\"decoder.relative_attention_bias\""), json);
            byte[] renamed = json.replace("\"decoder.relative_attention_bias\"", "\"decoder.relative_attention_biaz\"")
                    .getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(file.length).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(renamed.length).put(renamed).put(file, 8 + length, file.length - 8 - length);
            CheckpointException e = refused(out.array());
            assertTrue(e.getMessage().contains("decoder.relative_attention_bias"), e.getMessage());
        } finally {
            TestModels.deleteTree(t5Dir);
        }
    }

    @Example
    void sinusoidalPositionsUpToTheLargestIntLoadWithoutATable() throws IOException {
        for (long positions : new long[] {(1L << 22), (1L << 26) + 1, Integer.MAX_VALUE}) {
            Path p = write(withHeader(config(Map.of("max_position_embeddings", positions)), new byte[0]));
            try (Transformer loaded = Checkpoint.load(p); Transformer original = Checkpoint.load(dir.resolve("valid.safetensors"))) {
                assertEquals(positions, loaded.config().maxPositions());
                for (int i = 0; i < original.parameters().list().size(); i++) {
                    assertArrayEquals(original.parameters().list().get(i).value().toArray(),
                            loaded.parameters().list().get(i).value().toArray());
                }
                // and it runs: the sinusoids are computed for the positions a batch uses
                Batch batch = TestModels.randomBatch(new java.util.Random(1), loaded.config(), 2, 5, 4);
                assertEquals(original.forward(batch, false, 0), loaded.forward(batch, false, 0));
            } finally {
                Files.delete(p);
            }
        }
    }

    @Example
    void overlappingAliasedOrTrailingDataIsRefused() throws IOException {
        List<String> names = new ArrayList<>(header().keySet());
        names.remove("__metadata__");
        // one tensor's range given to another of the same size: two tensors share bytes, others have none
        String gamma = "encoder.norm.weight", beta = "encoder.norm.bias";
        CheckpointException aliased = refused(withHeader(h -> {
            List<Object> g = offsets(h, gamma);
            offsets(h, beta).clear();
            offsets(h, beta).addAll(List.copyOf(g));
        }, new byte[0]));
        assertTrue(aliased.getMessage().contains("overlaps"), aliased.getMessage());
        // every tensor at offset 0 (each range as long as its tensor)
        refused(withHeader(h -> {
            for (String n : names) {
                List<Object> o = offsets(h, n);
                long length = (Long) o.get(1) - (Long) o.get(0);
                o.set(0, 0L);
                o.set(1, length);
            }
        }, new byte[0]));
        // bytes after the last tensor
        CheckpointException e = refused(withHeader(h -> { }, new byte[64]));
        assertTrue(e.getMessage().contains("64 bytes after the last tensor"), e.getMessage());
    }

    @Example
    void nonFiniteWeightsAreRefusedAndLoadIntoChangesNothing() throws IOException {
        Map<String, Object> header = header();
        String last = null;
        long lastEnd = -1;
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (!e.getKey().equals("__metadata__") && (Long) offsets(header, e.getKey()).get(1) > lastEnd) {
                lastEnd = (Long) offsets(header, e.getKey()).get(1);
                last = e.getKey();
            }
        }
        byte[] bytes = valid.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(bytes.length - 4, Float.NaN);
        CheckpointException e = refused(bytes);
        assertTrue(e.getMessage().contains(last) && e.getMessage().contains("NaN"), e.getMessage());

        Path p = write(bytes);
        try (Transformer model = new Transformer(CONFIG, 99)) {
            float[] before = model.parameters().list().get(0).value().toArray();
            assertThrows(CheckpointException.class, () -> Checkpoint.loadInto(model, p));
            assertArrayEquals(before, model.parameters().list().get(0).value().toArray());
        } finally {
            Files.delete(p);
        }
    }

    @Example
    void directoriesAndFifosAreNotOpened() throws IOException, InterruptedException {
        Path d = Files.createDirectory(dir.resolve("model.safetensors"));
        try {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(d));
            assertTrue(e.getMessage().contains(d.toString()) && e.getMessage().contains("directory"), e.getMessage());
        } finally {
            Files.delete(d);
        }
        Path fifo = dir.resolve("fifo.safetensors");
        boolean made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0;
        } catch (IOException noMkfifo) {
            made = false;
        }
        assumeTrue(made, "mkfifo is not available here");
        try {
            // would block forever in open() if the loader tried to read it
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(fifo));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        } finally {
            Files.delete(fifo);
        }
    }

    @Example
    void aHeaderOfManyUnknownTensorsGivesAShortMessage() throws IOException {
        int end = valid.length - 8 - headerLength(valid);
        CheckpointException e = refused(withHeader(h -> {
            for (int i = 0; i < 300; i++) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("dtype", "F32");
                t.put("shape", List.of(0L));
                t.put("data_offsets", new ArrayList<>(List.of((long) end, (long) end)));
                h.put("extra." + i, t);
            }
        }, new byte[0]));
        assertTrue(e.getMessage().length() < 1000 && e.getMessage().contains("and 290 more"), e.getMessage());
    }

    @Example
    void aFileTruncatedAfterOpeningEndsInACheckpointException() throws IOException {
        Path p = write(valid);
        try (SafeTensors f = SafeTensors.open(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(0);
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> {
                for (String n : f.entries().keySet()) {
                    f.floats(n);
                }
            });
            assertTrue(e.getMessage().contains("changed or was truncated") && e.getMessage().contains(p.toString()), e.getMessage());
        } finally {
            Files.delete(p);
        }
    }
}
