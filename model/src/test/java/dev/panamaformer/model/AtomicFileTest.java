package dev.panamaformer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("model.safetensors");
        AtomicFile.write(target, out -> out.write("old".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IOException.class, () -> AtomicFile.write(target, out -> {
            out.write("half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void filesAreMadeWithTheProcessUmaskNotOwnerOnly(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("metrics.csv");
        AtomicFile.write(target, out -> out.write('x'));
        Path plain = Files.createFile(dir.resolve("plain"));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
    }

    @Test
    void leftoversOfProcessesThatNoLongerRunAreRemovedByTheNextWrite(@TempDir Path dir) throws IOException, InterruptedException {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long deadPid = gone.pid(), livePid = ProcessHandle.current().pid();
        Path dead = Files.writeString(dir.resolve(".model.safetensors." + deadPid + "-1.tmp"), "killed mid-write");
        Path older = Files.writeString(dir.resolve(".model.safetensors.8842196371150283733.tmp"), "an older version's random name");
        Path live = Files.writeString(dir.resolve(".model.safetensors." + livePid + "-999999.tmp"), "a write in progress");
        Path other = Files.writeString(dir.resolve(".curve.png." + deadPid + "-1.tmp"), "another target's");
        AtomicFile.write(dir.resolve("model.safetensors"), out -> out.write(1));
        assertFalse(Files.exists(dead));
        assertFalse(Files.exists(older));
        assertTrue(Files.exists(live), "a running process's file stays");
        assertTrue(Files.exists(other), "only the target's own leftovers go");
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(dir.resolve("model.safetensors")));
    }
}
