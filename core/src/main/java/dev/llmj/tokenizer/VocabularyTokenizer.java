package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer whose tokens are whole strings from a fixed vocabulary (Hugging Face's
 * "WordLevel" model): {@link CharTokenizer} and {@link WordTokenizer} differ only in how text
 * is cut into pieces and how pieces are joined back.
 */
public abstract sealed class VocabularyTokenizer implements Tokenizer permits CharTokenizer, WordTokenizer {
    private final String[] tokens;                  // id → token
    private final Map<String, Integer> ids;         // token → id
    private final SpecialTokens specials;
    private final boolean[] special;                // id → is it a special token
    private final int unkId;

    /** {@code tokens[id]} is the token with that id; {@code specials} name some of them. */
    protected VocabularyTokenizer(List<String> tokens, SpecialTokens specials) {
        this.tokens = tokens.toArray(String[]::new);
        this.ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < this.tokens.length; i++) {
            if (ids.put(this.tokens[i], i) != null) {
                throw new LlmjException("the vocabulary lists '" + Tokenizer.escape(this.tokens[i]) + "' twice");
            }
        }
        for (SpecialTokens.Entry e : specials.entries()) {
            if (e.id() < 0 || e.id() >= this.tokens.length || !this.tokens[e.id()].equals(e.text())) {
                throw new LlmjException("special token " + e.text() + " does not match id " + e.id() + " of the vocabulary");
            }
        }
        this.specials = specials;
        this.special = new boolean[this.tokens.length];
        for (SpecialTokens.Entry e : specials.entries()) special[e.id()] = true;
        this.unkId = specials.id(SpecialTokens.Role.UNK);
    }

    /** Builds the vocabulary list: special tokens first (in {@code roles} order), then {@code pieces}. */
    static List<String> withSpecials(List<SpecialTokens.Role> roles, List<String> pieces, List<SpecialTokens.Entry> out) {
        List<String> vocab = new ArrayList<>(roles.size() + pieces.size());
        for (SpecialTokens.Role r : roles) {
            out.add(new SpecialTokens.Entry(r, r.defaultText, vocab.size()));
            vocab.add(r.defaultText);
        }
        for (String p : pieces) if (!isSpecialText(roles, p)) vocab.add(p); // a literal "<unk>" in the corpus is no word of its own
        return vocab;
    }

    private static boolean isSpecialText(List<SpecialTokens.Role> roles, String p) {
        for (SpecialTokens.Role r : roles) if (r.defaultText.equals(p)) return true;
        return false;
    }

    /** Cuts text into the pieces that become tokens. */
    protected abstract List<String> pieces(String text);

    /** Joins decoded pieces back into text. */
    protected abstract String join(List<String> pieces);

    /** What one piece is called in messages ("character", "word"). */
    protected abstract String pieceName();

    @Override
    public int[] encode(String text) {
        List<String> ps = pieces(text);
        int[] out = new int[ps.size()];
        for (int i = 0; i < out.length; i++) {
            String piece = ps.get(i);
            Integer id = ids.get(piece);
            boolean specialText = id != null && special[id]; // "<mask>" typed as text is not the mask token
            if (id == null || specialText) {
                if (unkId < 0) {
                    throw new LlmjException(specialText
                            ? "'" + piece + "' is a special token's text, which plain encoding does not turn into the token; encode with specials (tokenize --specials) to mean the token"
                            : pieceName() + " '" + Tokenizer.escape(piece) + "'" + codePoints(piece) + " is not in the vocabulary and this tokenizer has no <unk>;"
                              + " rebuild it from a corpus that has it, or with unk among its special tokens (train-tokenizer --specials unk)");
                }
                id = unkId;
            }
            out[i] = id;
        }
        return out;
    }

    private static String codePoints(String s) {
        if (s.codePointCount(0, s.length()) != 1) return "";
        return String.format(" (U+%04X)", s.codePointAt(0));
    }

    @Override
    public String decode(int[] ids) {
        List<String> ps = new ArrayList<>(ids.length);
        for (int id : ids) ps.add(idToToken(id));
        return join(ps);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public String idToToken(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new LlmjException("token id " + id + " is outside the vocabulary [0, " + tokens.length + ")");
        }
        return tokens[id];
    }

    @Override
    public int tokenToId(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public SpecialTokens specials() {
        return specials;
    }

    /** Every token, in id order. */
    public List<String> vocabulary() {
        return List.of(tokens);
    }
}
