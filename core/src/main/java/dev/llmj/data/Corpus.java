package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads training text. A corpus is a UTF-8 file (one document) or a folder of them (each regular
 * file one document, in name order). Text that is not valid UTF-8 is an error naming the file and
 * the byte offset: bytes are never silently dropped or replaced.
 */
public final class Corpus {
    private Corpus() {}

    /** The files of a corpus: the file itself, or a folder's regular files (not hidden ones) in name order. */
    public static List<Path> files(Path path) {
        if (!Files.isDirectory(path)) return List.of(path);
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(path)) {
            s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new LlmjException("cannot list " + path + ": " + AtomicFiles.describe(e));
        }
        if (files.isEmpty()) throw new LlmjException("corpus folder " + path + " holds no files");
        return files;
    }

    /** The documents of a file or a folder; an error if there is none or all are empty. */
    public static List<String> documents(Path path) {
        List<String> docs = new ArrayList<>();
        for (Path f : files(path)) {
            String text = readUtf8(f);
            if (!text.isEmpty()) docs.add(text);
        }
        if (docs.isEmpty()) throw new LlmjException("corpus " + path + " is empty: give it some text to learn from");
        return docs;
    }

    /** One file's text; an error if it is missing, empty or not UTF-8. */
    public static String read(Path file) {
        if (Files.isDirectory(file)) return String.join("\n", documents(file));
        String text = readUtf8(file);
        if (text.isEmpty()) throw new LlmjException("corpus " + file + " is empty: give it some text to learn from");
        return text;
    }

    /** Decodes a file as strict UTF-8, reporting the offset of the first bad byte. */
    public static String readUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LlmjException("corpus " + file + " does not exist");
        } catch (IOException e) {
            throw new LlmjException("cannot read corpus " + file + ": " + AtomicFiles.describe(e));
        }
        return decodeUtf8(bytes, file.toString());
    }

    /**
     * Strict UTF-8: an error naming {@code what} and the byte offset of the first invalid sequence.
     * A leading byte-order mark (Windows editors write one) is dropped: it is not text, and kept it
     * would become a token of its own and stick to the first line.
     */
    public static String decodeUtf8(byte[] bytes, String what) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new LlmjException(what + " is not UTF-8 text: invalid byte 0x"
                    + String.format("%02X", bytes[in.position()] & 0xFF) + " at offset " + in.position()
                    + "; convert it first (for example: iconv -f latin1 -t utf-8)");
        }
        dec.flush(out); // UTF-8 keeps no state past the end of input, so this cannot fail
        out.flip();
        if (out.hasRemaining() && out.get(0) == '\uFEFF') out.position(1);
        return out.toString();
    }
}
