package dev.llmj.io;

import dev.llmj.LlmjException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes files so that a failing run never leaves a half-written file and never harms one that
 * was already there: everything goes to a temporary file beside the target, which is renamed
 * over the target only once it is complete.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Something that writes a whole file to a stream. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void writeString(Path target, String text) {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    public static void write(Path target, Writer writer) {
        if (Files.isDirectory(target)) throw new LlmjException("cannot write " + target + ": it is a folder; name a file");
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            try {
                Files.createDirectories(dir);
            } catch (java.nio.file.FileAlreadyExistsException inTheWay) { // its message is only the path
                throw new LlmjException("cannot write " + target + ": " + inTheWay.getFile() + " is a file, not a folder");
            }
            tmp = createBeside(target);
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                writer.writeTo(out);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new LlmjException("cannot write " + target + ": " + describe(e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is all that is left; the target is untouched
                }
            }
        }
    }

    /**
     * An empty temporary file beside {@code target}. Unlike {@code Files.createTempFile} (always
     * owner-only) it gets the permissions the umask gives a new file, or the target's own if the
     * target exists, so a rewritten file keeps its mode. It is deleted if the JVM is stopped
     * (Ctrl-C) before the rename.
     */
    private static Path createBeside(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(r.nextLong() & Long.MAX_VALUE) + ".tmp");
            try {
                Files.createFile(tmp);
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt < 100) continue;
                throw taken;
            }
            tmp.toFile().deleteOnExit();
            if (Files.exists(target) && Files.getFileStore(dir).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
            }
            return tmp;
        }
    }

    /** A short description of an I/O failure for a one-line message. */
    public static String describe(IOException e) {
        String kind = e.getClass().getSimpleName();
        return switch (kind) {
            case "NoSuchFileException" -> "no such file or folder " + e.getMessage();
            case "AccessDeniedException" -> "permission denied on " + e.getMessage();
            case "FileSystemException", "FileAlreadyExistsException", "NotDirectoryException" -> e.getMessage();
            default -> e.getMessage() == null ? kind : e.getMessage();
        };
    }
}
