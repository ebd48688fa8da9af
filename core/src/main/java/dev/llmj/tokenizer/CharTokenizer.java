package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * One token per Unicode code point, as in nanoGPT's Shakespeare-character model: built from a
 * corpus, the vocabulary is the corpus's distinct code points in code-point order (so
 * {@code tinyshakespeare.txt} gives nanoGPT's 65 ids exactly), with any requested special tokens
 * after them. Works for any script: each Chinese character is one token.
 */
public final class CharTokenizer extends VocabularyTokenizer {

    public CharTokenizer(List<String> vocabulary, SpecialTokens specials) {
        super(vocabulary, specials);
    }

    /** The distinct code points of {@code corpus}, sorted, then the special tokens of {@code roles}. */
    public static CharTokenizer build(String corpus, List<SpecialTokens.Role> roles) {
        TreeSet<Integer> cps = new TreeSet<>();
        corpus.codePoints().forEach(cps::add);
        if (cps.isEmpty()) throw new LlmjException("cannot build a character vocabulary from an empty corpus");
        List<String> vocab = new ArrayList<>();
        for (int cp : cps) vocab.add(Character.toString(cp));
        List<SpecialTokens.Entry> entries = new ArrayList<>();
        for (SpecialTokens.Role r : roles) { // "<eos>" is several code points, so never among them
            entries.add(new SpecialTokens.Entry(r, r.defaultText, vocab.size()));
            vocab.add(r.defaultText);
        }
        return new CharTokenizer(vocab, new SpecialTokens(entries));
    }

    @Override
    public String kind() {
        return "char";
    }

    @Override
    protected List<String> pieces(String text) {
        List<String> out = new ArrayList<>(text.length());
        text.codePoints().forEach(cp -> out.add(Character.toString(cp)));
        return out;
    }

    @Override
    protected String join(List<String> pieces) {
        return String.join("", pieces);
    }

    @Override
    protected String pieceName() {
        return "character";
    }
}
