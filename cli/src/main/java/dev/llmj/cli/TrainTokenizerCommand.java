package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.ByteBpeTokenizer;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tiktoken;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import dev.llmj.tokenizer.WordTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code llmj train-tokenizer}: build a char, word or byte-level BPE tokenizer from a corpus. */
@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
        description = {"Build a tokenizer from a corpus and write it as a Hugging Face tokenizer.json.",
                "With no options: a 4,096-token byte-level BPE on the bundled Shakespeare, written to out/tokenizer.json."},
        footer = {"", "Examples:",
                "  llmj train-tokenizer",
                "  llmj train-tokenizer --kind char --data data/tang-poems.txt --out tang.json",
                "  llmj train-tokenizer --kind word --specials unk,eos,mask --data words.txt"})
final class TrainTokenizerCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "FILE", description = "UTF-8 corpus: a file, or a folder of files (default: the bundled tinyshakespeare.txt).")
    Path data;

    @Option(names = "--kind", paramLabel = "KIND", defaultValue = "bpe",
            description = "char (one token per character), word (whitespace-separated words) or bpe (GPT-2-style byte-level BPE). Default: ${DEFAULT-VALUE}.")
    String kind;

    @Option(names = "--vocab-size", paramLabel = "N",
            description = "bpe: the vocabulary size including special tokens (default 4096, at least 256 + specials). word: keep the N−specials most frequent words (default: all). Not for char.")
    Integer vocabSize;

    @Option(names = "--specials", paramLabel = "LIST",
            description = "Special tokens to add, comma-separated from eos,bos,pad,unk,mask, or none. Default: none for char (nanoGPT's vocabulary), unk,eos for word, eos (<|endoftext|>) for bpe.")
    String specials;

    @Option(names = "--pattern", paramLabel = "REGEX", defaultValue = "gpt2",
            description = "bpe: the pre-tokenisation regex that cuts text into pieces merges never cross: gpt2, cl100k (digits in threes, as GPT-4), o200k, or a Java regex. Default: ${DEFAULT-VALUE}.")
    String pattern;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "out/tokenizer.json",
            description = "Where to write the tokenizer.json (written atomically). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String k = kind.toLowerCase(java.util.Locale.ROOT);
        if (!List.of("char", "word", "bpe").contains(k)) {
            throw new LlmjException("unknown --kind '" + kind + "': use char, word or bpe");
        }
        Path corpusPath = data != null ? data : Main.defaultCorpus();
        String defaults = switch (k) {
            case "char" -> "none";
            case "word" -> "unk,eos";
            default -> "eos";
        };
        List<SpecialTokens.Role> roles = SpecialTokens.parseRoles(specials != null ? specials : defaults);
        if (k.equals("char") && vocabSize != null) {
            throw new LlmjException("--vocab-size does not apply to a char tokenizer: its vocabulary is the corpus's characters");
        }
        if (vocabSize != null && vocabSize < 1) throw new LlmjException("--vocab-size must be positive, not " + vocabSize);

        String corpus = Corpus.read(corpusPath);
        long t0 = System.nanoTime();
        Tokenizer tok = switch (k) {
            case "char" -> CharTokenizer.build(corpus, roles);
            case "word" -> WordTokenizer.build(corpus, roles, vocabSize == null ? 0 : vocabSize);
            default -> BpeTrainer.train(corpus, vocabSize == null ? 4096 : vocabSize, roles, regex());
        };
        double seconds = (System.nanoTime() - t0) / 1e9;
        TokenizerJson.write(tok, out);

        PrintWriter o = spec.commandLine().getOut();
        int chars = corpus.codePointCount(0, corpus.length());
        o.printf("trained a %s tokenizer on %s (%,d characters) in %.2f s%n", k, Main.shown(corpusPath), chars, seconds);
        o.printf("vocabulary: %,d tokens%s%n", tok.vocabSize(), composition(tok));
        if (!tok.specials().entries().isEmpty()) o.printf("special tokens: %s%n", tok.specials());
        if (k.equals("bpe") && vocabSize != null && tok.vocabSize() < vocabSize) {
            o.printf("note: the corpus ran out of pairs to merge, so the vocabulary has %,d tokens, not %,d%n", tok.vocabSize(), vocabSize);
        }
        int[] ids = tok.encode(corpus);
        o.printf("the corpus encodes to %,d token%s (%.2f characters per token)%n", ids.length, ids.length == 1 ? "" : "s",
                chars / (double) ids.length);
        String sample = firstLine(corpus);
        int[] sampleIds = tok.encode(sample);
        StringBuilder cut = new StringBuilder();
        for (int id : sampleIds) cut.append(cut.isEmpty() ? "" : "|").append(tok.display(id));
        o.printf("example: %s%n", cut);
        o.printf("wrote %s%n", Main.shown(out));
        return 0;
    }

    private String regex() {
        String p = switch (pattern) {
            case "gpt2" -> ByteBpeTokenizer.GPT2_PATTERN;
            case "cl100k" -> Tiktoken.CL100K.pattern();
            case "o200k" -> Tiktoken.O200K.pattern();
            default -> pattern;
        };
        try {
            java.util.regex.Pattern.compile(p, java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new LlmjException("--pattern is not a valid regex: " + e.getDescription() + " near index " + e.getIndex());
        }
        if (java.util.regex.Pattern.compile(p).matcher("").matches()) {
            throw new LlmjException("--pattern matches the empty string, so it would cut text nowhere; give a pattern that matches at least one character");
        }
        return p;
    }

    private static String composition(Tokenizer tok) {
        if (tok instanceof ByteBpeTokenizer bpe) {
            return String.format(" = 256 bytes + %,d merges + %d special", bpe.merges().length, bpe.specials().entries().size());
        }
        return "";
    }

    private static String firstLine(String corpus) {
        String line = corpus.strip().lines().filter(l -> !l.isBlank()).findFirst().orElse(corpus);
        return line.length() > 60 ? line.substring(0, line.offsetByCodePoints(0, Math.min(60, line.codePointCount(0, line.length())))) : line;
    }
}
