package dev.llmj;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The corpora bundled in the repository's data/ folder, found from any module's working directory. */
public final class TestData {
    private TestData() {}

    public static Path dataDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("data");
            if (Files.isRegularFile(d.resolve("tinyshakespeare.txt"))) return d;
        }
        throw new IllegalStateException("cannot find the data/ folder above " + Path.of("").toAbsolutePath());
    }

    public static String shakespeare() {
        return read("tinyshakespeare.txt");
    }

    public static String tangPoems() {
        return read("tang-poems.txt");
    }

    private static String read(String name) {
        try {
            return Files.readString(dataDir().resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
