package dev.panamaformer.model;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file replaced whole or not at all: written beside its target as
 * {@code .NAME.PID-N.tmp}, flushed to disk, then renamed over it, so a reader sees the old file
 * or the new one, never half of one. The temporary file is created as any other file of the
 * process (its umask decides the mode; {@code Files.createTempFile} would make it 0600). A process
 * killed between create and rename leaves its temporary file behind; the next write of the same
 * target removes those of processes that no longer run.
 */
public final class AtomicFile {
    /** What writes the file's bytes. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static final AtomicLong COUNTER = new AtomicLong();

    private AtomicFile() {
    }

    /** Writes {@code target} with {@code body}; on any failure a previous file at {@code target} stays as it was. */
    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        String name = absolute.getFileName().toString();
        removeLeftovers(dir, name);
        Path tmp = dir.resolve("." + name + "." + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                body.write(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Deletes {@code .NAME.<digits>[-<digits>].tmp} in {@code dir} whose first number is not a
     * running process (the digits of older versions' random names are, almost surely, not one).
     * Best effort: a file that cannot be listed or deleted is left alone.
     */
    static void removeLeftovers(Path dir, String name) {
        String prefix = "." + name;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp") && f.length() > prefix.length() + 4;
        })) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                String middle = f.substring(prefix.length(), f.length() - 4);
                if (middle.startsWith(".")) {
                    middle = middle.substring(1);
                }
                if (!middle.matches("[0-9]{1,19}(-[0-9]{1,19})?")) {
                    continue;
                }
                int dash = middle.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? middle : middle.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a directory that cannot be listed keeps its leftovers
        }
    }
}
