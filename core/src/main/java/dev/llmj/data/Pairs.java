package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * (source, target) pairs for an encoder–decoder, from a UTF-8 file of {@code source<TAB>target}
 * lines: {@code 4071\tfour thousand seventy-one}. Blank lines are skipped and a trailing
 * {@code \r} dropped; nothing else is special ({@code #} starts no comment). A line with no tab,
 * more than one, or an empty side is an error naming the file and the line. Both sides are
 * encoded with one tokenizer, which must have {@code <pad>}, {@code <bos>} and {@code <eos>}
 * (see {@link PairBatcher} for what each is for).
 */
public final class Pairs {
    /** One pair: its 1-based line in the file, its text, and its ids (no special tokens added). */
    public record Pair(int line, String source, String target, int[] sourceIds, int[] targetIds) {}

    private final Tokenizer tokenizer;
    private final String file;
    private final List<Pair> pairs;

    private Pairs(Tokenizer tokenizer, String file, List<Pair> pairs) {
        this.tokenizer = tokenizer;
        this.file = file;
        this.pairs = pairs;
    }

    /** Reads and encodes a pairs file. */
    public static Pairs read(Path file, Tokenizer tok) {
        return of(Corpus.readUtf8(file), tok, file.toString());
    }

    /** Parses {@code text} as a pairs file called {@code file} in messages. */
    public static Pairs of(String text, Tokenizer tok, String file) {
        for (SpecialTokens.Role r : new SpecialTokens.Role[] {SpecialTokens.Role.PAD, SpecialTokens.Role.BOS, SpecialTokens.Role.EOS}) {
            if (!tok.specials().has(r)) {
                throw new LlmjException("the tokenizer has no " + r.defaultText + ", which (source, target) pairs need beside <pad>, <bos> and <eos>;"
                        + " train the tokenizer with those special tokens (train-tokenizer --specials pad,bos,eos)");
            }
        }
        List<Pair> pairs = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isBlank()) continue;
            int tab = line.indexOf('\t');
            String where = file + " line " + (i + 1) + ": ";
            if (tab < 0) throw new LlmjException(where + "no tab; each line must be source<TAB>target");
            if (line.indexOf('\t', tab + 1) >= 0) {
                throw new LlmjException(where + "more than one tab; each line must be source<TAB>target, with no tab inside either");
            }
            String source = line.substring(0, tab), target = line.substring(tab + 1);
            int[] s = encode(tok, source, where + "the source"), t = encode(tok, target, where + "the target");
            if (s.length == 0) throw new LlmjException(where + "the source (before the tab) is empty");
            if (t.length == 0) throw new LlmjException(where + "the target (after the tab) is empty");
            pairs.add(new Pair(i + 1, source, target, s, t));
        }
        if (pairs.isEmpty()) throw new LlmjException(file + " holds no pairs: give it lines of source<TAB>target");
        return new Pairs(tok, file, pairs);
    }

    /** Encodes one side, naming the line when the tokenizer refuses it (say a character it has never seen). */
    private static int[] encode(Tokenizer tok, String text, String what) {
        if (text.isBlank()) return new int[0];
        try {
            return tok.encode(text);
        } catch (LlmjException e) {
            throw new LlmjException(what + ": " + e.getMessage(), e);
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The file the pairs came from (for messages). */
    public String file() {
        return file;
    }

    public int size() {
        return pairs.size();
    }

    public Pair get(int i) {
        return pairs.get(i);
    }

    /**
     * The train/validation split by lines: validation is the last {@code valFraction} of the pairs
     * (rounded down), training those before it. With a separate validation file, read that instead.
     */
    public Pairs[] split(double valFraction) {
        if (!(valFraction >= 0 && valFraction < 1)) throw new LlmjException("validation fraction must be in [0, 1): " + valFraction);
        int nVal = (int) Math.floor(pairs.size() * valFraction);
        int nTrain = pairs.size() - nVal;
        return new Pairs[] {new Pairs(tokenizer, file, pairs.subList(0, nTrain)), new Pairs(tokenizer, file, pairs.subList(nTrain, pairs.size()))};
    }
}
