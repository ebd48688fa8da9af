package dev.llmj.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The bundled corpus, found from the module's working directory. */
final class CliTestData {
    private CliTestData() {}

    static Path shakespeare() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data/tinyshakespeare.txt"))) return p.resolve("data/tinyshakespeare.txt");
        }
        throw new IllegalStateException("data/ not found");
    }
}
