package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A corpus of separate examples for an encoder: one example per line, each encoded on its own with
 * a {@link Tokenizer}. Blank lines (empty, or only whitespace) are skipped and a trailing
 * {@code \r} is dropped, so a Windows file reads the same; nothing else of the line is changed.
 * Unlike a {@link TokenFile}, examples are never run together: an encoder sees one sentence at a
 * time, padded (see {@link SentenceBatcher}).
 */
public final class Sentences {
    private final Tokenizer tokenizer;
    private final List<int[]> examples;
    private final String source; // what the examples came from, for messages

    private Sentences(Tokenizer tokenizer, List<int[]> examples, String source) {
        this.tokenizer = tokenizer;
        this.examples = examples;
        this.source = source;
    }

    /** The non-blank lines of a corpus file (or folder, its files joined by line breaks). */
    public static Sentences read(Path corpus, Tokenizer tok) {
        return of(Corpus.read(corpus), tok, corpus.toString());
    }

    /** The non-blank lines of {@code text}; {@code source} names it in errors. */
    public static Sentences of(String text, Tokenizer tok, String source) {
        List<int[]> examples = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isBlank()) continue;
            int[] ids = tok.encode(line);
            if (ids.length > 0) examples.add(ids);
        }
        if (examples.isEmpty()) {
            throw new LlmjException(source + " has no non-empty line: an encoder learns from one sentence per line, so give it some");
        }
        return new Sentences(tok, examples, source);
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** How many examples there are. */
    public int size() {
        return examples.size();
    }

    /** Example {@code i}'s ids, as encoded (no special tokens added, not truncated). */
    public int[] get(int i) {
        return examples.get(i);
    }

    String source() {
        return source;
    }

    /**
     * The train/validation split by examples: validation is the last {@code valFraction} of the
     * lines (rounded down), training the lines before it, as {@link TokenFile#split} does for
     * token streams. Validation may be empty when the corpus is small.
     */
    public Sentences[] split(double valFraction) {
        if (!(valFraction >= 0 && valFraction < 1)) throw new LlmjException("validation fraction must be in [0, 1): " + valFraction);
        int nVal = (int) Math.floor(examples.size() * valFraction);
        int nTrain = examples.size() - nVal;
        return new Sentences[] {
                new Sentences(tokenizer, examples.subList(0, nTrain), source + " (training lines)"),
                new Sentences(tokenizer, examples.subList(nTrain, examples.size()), source + " (validation lines)")};
    }

    /** The {@code <pad>} id, or a clear error naming the fix. */
    static int padId(Tokenizer tok) {
        int pad = tok.specials().id(SpecialTokens.Role.PAD);
        if (pad < 0) {
            throw new LlmjException("the tokenizer has no <pad>, which batches of different-length sentences need;"
                    + " train the tokenizer with the pad special token (train-tokenizer --specials pad,…)");
        }
        return pad;
    }
}
