package dev.llmj.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Text ↔ token ids. Three kinds share this interface: {@link CharTokenizer} (one token per
 * Unicode code point), {@link WordTokenizer} (whitespace-separated words) and
 * {@link ByteBpeTokenizer} (GPT-2-style byte-level BPE). Any of them reads and writes a
 * Hugging Face {@code tokenizer.json} through {@link TokenizerJson}.
 */
public interface Tokenizer {

    /** "char", "word" or "bpe". */
    String kind();

    /**
     * Text → ids. Special-token text in {@code text} (say {@code "<eos>"}) is ordinary text here,
     * so user data can never forge a control token; see {@link #encodeWithSpecials}.
     */
    int[] encode(String text);

    /** Ids → text. Special tokens decode to their own text. */
    String decode(int[] ids);

    /** How many ids there are: every id lies in {@code [0, vocabSize())}. */
    int vocabSize();

    /** The vocabulary's string for an id (for byte-level BPE, GPT-2's printable form such as {@code "Ġthe"}). */
    String idToToken(int id);

    /** The id of a vocabulary string, or -1 if there is none. */
    int tokenToId(String token);

    /** The special tokens this tokenizer has (possibly none). */
    SpecialTokens specials();

    /** Like {@link #encode}, but each literal special-token text (longest first) becomes that token's id. */
    default int[] encodeWithSpecials(String text) {
        List<SpecialTokens.Entry> all = new ArrayList<>(specials().entries());
        if (all.isEmpty()) return encode(text);
        all.sort(Comparator.comparingInt((SpecialTokens.Entry e) -> -e.text().length()));
        IntList out = new IntList();
        int start = 0, i = 0;
        outer:
        while (i < text.length()) {
            for (SpecialTokens.Entry e : all) {
                if (text.startsWith(e.text(), i)) {
                    if (i > start) out.addAll(encode(text.substring(start, i)));
                    out.add(e.id());
                    i += e.text().length();
                    start = i;
                    continue outer;
                }
            }
            i++;
        }
        if (start < text.length()) out.addAll(encode(text.substring(start)));
        return out.toArray();
    }

    /** A human-readable form of one token: its text with control characters escaped. */
    default String display(int id) {
        return escape(decode(new int[] {id}));
    }

    /** Escapes newlines, tabs and other control characters so a token prints on one line. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }
}
