package dev.panamaformer.tasks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file of source/target pairs, one per line: UTF-8, the source and the target separated by one
 * tab. A byte order mark at the start and a carriage return at a line's end are dropped, and
 * blank lines skipped; anything else that is not a pair (no tab, two tabs, an empty side, bytes
 * that are not UTF-8, a line past {@link #MAX_LINE} characters) stops the reading with an
 * IOException naming the file and the line, rather than train on a guess.
 */
final class PairsFile {
    /** The longest line read, in characters: a longer one is a file of another kind. */
    static final int MAX_LINE = 10_000;
    /** The largest file read, in bytes. */
    static final long MAX_BYTES = 1L << 30;

    /** A pair and the line it came from (counting from 1). */
    record Pair(int line, String source, String target) {
    }

    private PairsFile() {
    }

    static List<Pair> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(file + " is a directory, not a file of pairs");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
        }
        byte[] bytes = Files.readAllBytes(file);
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<Pair> pairs = new ArrayList<>();
        int start = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        for (int line = 1; start < bytes.length; line++) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            String text;
            try {
                CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(bytes, start, stop - start));
                text = chars.toString();
            } catch (CharacterCodingException e) {
                throw new IOException(file + " line " + line + ": not UTF-8 text");
            }
            start = end + 1;
            if (text.length() > MAX_LINE) {
                throw new IOException(file + " line " + line + ": " + text.length() + " characters, more than the " + MAX_LINE
                        + " a line may have");
            }
            if (text.isBlank()) {
                continue;
            }
            int tab = text.indexOf('\t');
            if (tab < 0) {
                throw new IOException(file + " line " + line + ": no tab between source and target");
            }
            if (text.indexOf('\t', tab + 1) >= 0) {
                throw new IOException(file + " line " + line + ": more than one tab (one separates source and target)");
            }
            String source = text.substring(0, tab).strip(), target = text.substring(tab + 1).strip();
            if (source.isEmpty() || target.isEmpty()) {
                throw new IOException(file + " line " + line + ": an empty " + (source.isEmpty() ? "source" : "target"));
            }
            pairs.add(new Pair(line, source, target));
        }
        if (pairs.isEmpty()) {
            throw new IOException(file + " holds no pairs (lines of source, a tab, target)");
        }
        return pairs;
    }
}
