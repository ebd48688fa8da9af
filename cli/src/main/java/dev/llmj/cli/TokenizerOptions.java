package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where a command's tokenizer comes from: a file, or a char tokenizer built from a corpus. */
final class TokenizerOptions {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--tokenizer", paramLabel = "FILE",
                description = "A tokenizer.json (Hugging Face format), a model folder holding one, or a tiktoken rank file (*.tiktoken).")
        Path tokenizer;

        @Option(names = "--data", paramLabel = "FILE",
                description = "Build a character tokenizer from this corpus on the fly.")
        Path data;
    }

    Tokenizer load() {
        if (source.tokenizer != null) {
            Path p = source.tokenizer;
            if (Files.isDirectory(p)) p = p.resolve("tokenizer.json");
            if (!Files.exists(p)) throw new LlmjException("tokenizer " + p + " does not exist");
            return TokenizerJson.read(p);
        }
        return CharTokenizer.build(Corpus.read(source.data), List.<SpecialTokens.Role>of());
    }

    String describe() {
        return source.tokenizer != null ? source.tokenizer.toString() : "characters of " + source.data;
    }
}
