package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class CheckpointTest {
    private static final TransformerConfig CONFIG = TestModels.tiny(TransformerConfig.Activation.GELU, TransformerConfig.Positions.SINUSOIDAL);
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void writeOne() throws IOException {
        dir = TestModels.directoryWithCheckpoint("checkpoint-fuzz", CONFIG, 5);
        valid = Files.readAllBytes(dir.resolve("valid.safetensors"));
    }

    @AfterContainer
    static void clean() throws IOException {
        TestModels.deleteTree(dir);
    }

    /**
     * Every position type's config and outputs survive a checkpoint (RoPE's angles are no tensor:
     * computed again), in a forward pass and in cached decoding alike: T5's dense bias tables are
     * derived from its buckets, and a decoding session of a loaded model once read a table built
     * from the initial weights, not the loaded ones.
     */
    @Example
    void everyPositionTypeRoundTrips() throws IOException {
        Path tmp = Files.createTempDirectory(dir, "case");
        java.util.List<TransformerConfig> configs = new java.util.ArrayList<>();
        for (TransformerConfig.Positions positions : TransformerConfig.Positions.values()) {
            configs.add(CONFIG.withPositions(positions));
        }
        // and an attention window, which the file's config carries
        configs.add(CONFIG.withPositions(TransformerConfig.Positions.ROPE_CROSS).withAttentionWindow(1));
        for (TransformerConfig config : configs) {
            String positions = config.positions() + (config.attentionWindow() > 0 ? "-window" + config.attentionWindow() : "");
            Batch batch = TestModels.randomBatch(new Random(2), config, 2, 5, 4);
            Path path = tmp.resolve(positions + ".safetensors");
            try (Transformer model = new Transformer(config, 5)) {
                model.forward(batch, false, 0);
                float[] logits = model.logits().toArray();
                Checkpoint.save(model, path);
                int[][] sources = {{3, 5, 7, 2}, {4, 4, 9, 1}};
                float[] decoded = decode(model, sources);
                try (Transformer loaded = Checkpoint.load(path)) {
                    assertEquals(config, loaded.config());
                    assertArrayEquals(decoded, decode(loaded, sources), positions + ", decoding first");
                    loaded.forward(batch, false, 0);
                    assertArrayEquals(logits, loaded.logits().toArray(), positions.toString());
                }
            }
        }
    }

    /** The log-probabilities of three cached greedy-free steps (token 1 fed each time) from {@code sources}. */
    private static float[] decode(Transformer model, int[][] sources) {
        float[] all = new float[3 * sources.length * model.config().tgtVocabSize()];
        try (DecodingSession session = model.startDecoding(sources, 1, 3)) {
            for (int step = 0; step < 3; step++) {
                float[] p = session.step(new int[] {1, 1}).toArray();
                System.arraycopy(p, 0, all, step * p.length, p.length);
            }
        }
        return all;
    }

    /** Metadata in any iteration order (a Map.of's is drawn per JVM) gives the same bytes. */
    @Example
    void theSameModelAndMetadataGiveTheSameFile() throws IOException {
        Path tmp = Files.createTempDirectory(dir, "case");
        var forward = new java.util.LinkedHashMap<String, String>();
        var backward = new java.util.LinkedHashMap<String, String>();
        String[] keys = {"task", "seed", "step", "note"};
        for (int i = 0; i < keys.length; i++) {
            forward.put(keys[i], "v" + i);
            backward.put(keys[keys.length - 1 - i], "v" + (keys.length - 1 - i));
        }
        try (Transformer model = new Transformer(CONFIG, 5)) {
            Checkpoint.save(model, tmp.resolve("a.safetensors"), forward);
            Checkpoint.save(model, tmp.resolve("b.safetensors"), backward);
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a.safetensors")), Files.readAllBytes(tmp.resolve("b.safetensors")));
        var read = new java.util.HashMap<>(Checkpoint.metadata(tmp.resolve("a.safetensors")));
        read.keySet().removeAll(java.util.List.of("format", "config"));
        assertEquals(forward, read);
    }

    @Example
    void aSavedModelLoadsWithTheSameConfigAndOutputs() throws IOException {
        Path tmp = Files.createTempDirectory(dir, "case");
        Batch batch = TestModels.randomBatch(new Random(1), CONFIG, 2, 4, 3);
        Path path = tmp.resolve("runs/model.safetensors");
        try (Transformer model = new Transformer(CONFIG, 5)) {
            double loss = model.forward(batch, false, 0);
            float[] logits = model.logits().toArray();
            Checkpoint.save(model, path);
            assertEquals(CONFIG, Checkpoint.config(path));
            try (Transformer loaded = Checkpoint.load(path)) {
                assertEquals(loss, loaded.forward(batch, false, 0));
                assertArrayEquals(logits, loaded.logits().toArray());
            }
            try (Transformer other = new Transformer(CONFIG, 6)) {
                Checkpoint.loadInto(other, path);
                assertArrayEquals(logits, loaded(other, batch));
            }
        }
        try (var files = Files.list(path.getParent())) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    private static float[] loaded(Transformer m, Batch batch) {
        m.forward(batch, false, 0);
        return m.logits().toArray();
    }

    @Example
    void aMismatchingCheckpointIsRefusedAndChangesNothing() throws IOException {
        Path tmp = Files.createTempDirectory(dir, "case");
        Path path = tmp.resolve("m.safetensors");
        try (Transformer model = new Transformer(CONFIG, 5)) {
            Checkpoint.save(model, path);
        }
        try (Transformer other = new Transformer(CONFIG.withActivation(TransformerConfig.Activation.RELU), 6)) {
            float[] before = other.parameters().get("generator.weight").value().toArray();
            var e = assertThrows(CheckpointException.class, () -> Checkpoint.loadInto(other, path));
            assertTrue(e.getMessage().contains("another model"), e.getMessage());
            assertArrayEquals(before, other.parameters().get("generator.weight").value().toArray());
        }
        // a file with the right config but a tensor of the wrong shape: nothing is copied
        new SafeTensors.Writer().metadata("format", Checkpoint.FORMAT).metadata("config", CONFIG.toJson())
                .floats("generator.weight", new float[3], 3).write(tmp.resolve("bad.safetensors"));
        try (Transformer model = new Transformer(CONFIG, 5)) {
            var e = assertThrows(CheckpointException.class, () -> Checkpoint.loadInto(model, tmp.resolve("bad.safetensors")));
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
        var e = assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp.resolve("absent.safetensors")));
        assertTrue(e.getMessage().contains("no checkpoint at"), e.getMessage());
    }

    @Example
    void aFailedSaveLeavesThePreviousCheckpointIntact() throws IOException {
        Path tmp = Files.createTempDirectory(dir, "case");
        Path path = tmp.resolve("m.safetensors");
        try (Transformer model = new Transformer(CONFIG, 5)) {
            Checkpoint.save(model, path);
        }
        byte[] before = Files.readAllBytes(path);
        try (Transformer closed = new Transformer(CONFIG, 9)) {
            closed.close();
            assertThrows(IllegalStateException.class, () -> Checkpoint.save(closed, path));
        }
        // the writer fails after creating its temporary file: a tensor name JSON cannot hold is impossible,
        // so fail the rename instead by making the target a non-empty directory
        Path blocked = tmp.resolve("blocked.safetensors");
        Files.createDirectories(blocked.resolve("inside"));
        try (Transformer model = new Transformer(CONFIG, 5)) {
            assertThrows(IOException.class, () -> Checkpoint.save(model, blocked));
        }
        assertArrayEquals(before, Files.readAllBytes(path));
        try (var files = Files.list(tmp)) {
            assertEquals(2, files.count(), "only the checkpoint and the blocking directory remain: " + Arrays.toString(tmp.toFile().list()));
        }
    }

    /** Parameters of the valid file, to compare what a mutated file loads to. */
    private static float[][] original;

    private static float[][] values(Transformer m) {
        return m.parameters().list().stream().map(p -> p.value().toArray()).toArray(float[][]::new);
    }

    /**
     * A mutated file either loads to a model whose parameters are those saved, bit for bit, or
     * ends in a CheckpointException with a message; either way the load allocates on the heap no
     * more than a few times the file's size (the parameters themselves are off-heap, bounded by
     * the file through the loader's parameter budget).
     */
    private static void expectRefusal(byte[] bytes, String what) throws IOException {
        Path p = Files.createTempFile(dir, "fuzz", ".safetensors");
        Files.write(p, bytes);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        try (Transformer loaded = Checkpoint.load(p)) {
            if (original == null) {
                try (Transformer reference = Checkpoint.load(dir.resolve("valid.safetensors"))) {
                    original = values(reference);
                }
            }
            // the mutations here touch the header (or make noise no loader accepts): none may change a weight
            assertTrue(Arrays.deepEquals(original, values(loaded)), what + ": a file that loads must hold the saved parameters");
        } catch (CheckpointException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), what + ": an exception with a message");
        } finally {
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 4L * Math.max(bytes.length, valid.length) + (2 << 20), what + ": the load allocated " + allocated
                    + " bytes of heap for a file of " + bytes.length);
            Files.delete(p);
        }
    }

    @Property(tries = 300)
    void truncationsAreRefused(@ForAll @IntRange(min = 0, max = 100_000) int cut) throws IOException {
        int length = cut % valid.length;
        Path p = Files.createTempFile(dir, "cut", ".safetensors");
        Files.write(p, Arrays.copyOf(valid, length));
        try {
            var e = assertThrows(RuntimeException.class, () -> Checkpoint.load(p).close());
            assertTrue(e instanceof CheckpointException, "truncated to " + length + ": " + e);
        } finally {
            Files.delete(p);
        }
    }

    @Property(tries = 500)
    void corruptedHeadersEndInACleanException(@ForAll @IntRange(min = 0, max = 1_000_000) int position,
                                              @ForAll byte value, @ForAll @IntRange(min = 1, max = 8) int count) throws IOException {
        byte[] bytes = valid.clone();
        long headerEnd = 8 + (bytes[0] & 0xFF) + ((bytes[1] & 0xFF) << 8) + ((bytes[2] & 0xFF) << 16);
        Random r = new Random(position * 31L + value);
        for (int i = 0; i < count; i++) {
            bytes[(int) ((position + r.nextInt(1000)) % headerEnd)] = (byte) (value + i);
        }
        expectRefusal(bytes, "corrupted header");
    }

    @Property(tries = 300)
    void randomBytesEndInACleanException(@ForAll @IntRange(max = 4096) int length, @ForAll long seed) throws IOException {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        if (length > 8 && seed % 2 == 0) {
            // a plausible header length, so that the JSON parser sees the noise
            int n = Math.max(0, length - 8);
            bytes[0] = (byte) n;
            bytes[1] = (byte) (n >> 8);
            Arrays.fill(bytes, 2, 8, (byte) 0);
            bytes[8] = '{';
        }
        expectRefusal(bytes, "random bytes");
    }

    @Example
    void hostileHeadersAreRefused() throws IOException {
        String[] headers = {
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999]}}",
            "{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
            "[".repeat(100_000),
            "{\"__metadata__\":{\"config\":5}}",
        };
        for (String h : headers) {
            byte[] json = h.getBytes(StandardCharsets.UTF_8);
            byte[] bytes = new byte[8 + json.length + 4];
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(json.length);
            System.arraycopy(json, 0, bytes, 8, json.length);
            Path p = Files.createTempFile(dir, "hostile", ".safetensors");
            Files.write(p, bytes);
            try {
                assertThrows(CheckpointException.class, () -> Checkpoint.load(p).close(), h.substring(0, Math.min(60, h.length())));
            } finally {
                Files.delete(p);
            }
        }
    }
}
