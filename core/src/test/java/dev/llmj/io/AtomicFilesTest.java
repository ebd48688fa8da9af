package dev.llmj.io;

import dev.llmj.LlmjException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporary() throws Exception {
        Path target = dir.resolve("model.json");
        Files.writeString(target, "old");
        assertThrows(LlmjException.class, () -> AtomicFiles.write(target, out -> {
            out.write("half of the new".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(target));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the target is left");
        }
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
    }

    @Test
    void newFilesGetTheUmaskModeAndRewrittenFilesKeepTheirs() throws Exception {
        Path plain = Files.createFile(dir.resolve("plain"));
        Path fresh = dir.resolve("fresh.json");
        AtomicFiles.writeString(fresh, "x");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(fresh), "not createTempFile's owner-only mode");
        Path shared = dir.resolve("shared.json");
        Files.writeString(shared, "x");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-rw-r--"));
        AtomicFiles.writeString(shared, "y");
        assertEquals("rw-rw-r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)));
    }

    @Test
    void aFolderIsNotOverwritten() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("out"));
        LlmjException e = assertThrows(LlmjException.class, () -> AtomicFiles.writeString(folder, "x"));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
        assertTrue(Files.isDirectory(folder));
    }

    @Test
    void aFileWhereAFolderShouldBeIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep");
        LlmjException e = assertThrows(LlmjException.class, () -> AtomicFiles.writeString(file.resolve("page.html"), "x"));
        assertEquals("cannot write " + file.resolve("page.html") + ": " + file + " is a file, not a folder", e.getMessage());
        assertEquals("keep", Files.readString(file));
    }
}
