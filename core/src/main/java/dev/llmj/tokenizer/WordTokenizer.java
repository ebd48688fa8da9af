package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whitespace-separated words, as in the tutorial's {@code 猫 在 垫子 上}: each word is a token,
 * and so is each line break (so a corpus of one sentence per line keeps its lines). Runs of
 * spaces and tabs only separate words: decoding puts one space between words, so
 * {@code decode(encode(s))} equals {@code s} with its horizontal whitespace normalised.
 */
public final class WordTokenizer extends VocabularyTokenizer {

    public WordTokenizer(List<String> vocabulary, SpecialTokens specials) {
        super(vocabulary, specials);
    }

    /**
     * Special tokens first, then the corpus's words from most to least frequent (ties in string
     * order); with {@code maxVocab > 0} the rarest words are left out (they become {@code <unk>}).
     */
    public static WordTokenizer build(String corpus, List<SpecialTokens.Role> roles, int maxVocab) {
        Map<String, Integer> counts = new HashMap<>();
        for (String w : split(corpus)) counts.merge(w, 1, Integer::sum);
        if (counts.isEmpty()) throw new LlmjException("cannot build a word vocabulary from a corpus with no words");
        List<String> words = new ArrayList<>(counts.keySet());
        words.sort((a, b) -> {
            int c = Integer.compare(counts.get(b), counts.get(a));
            return c != 0 ? c : a.compareTo(b);
        });
        if (maxVocab > 0) {
            if (maxVocab <= roles.size()) {
                throw new LlmjException("--vocab-size " + maxVocab + " leaves no room for words beside " + roles.size() + " special tokens");
            }
            if (maxVocab - roles.size() < words.size()) {
                if (!roles.contains(SpecialTokens.Role.UNK)) {
                    throw new LlmjException("--vocab-size " + maxVocab + " leaves out " + (words.size() - maxVocab + roles.size())
                            + " words, which then need <unk>: add unk to --specials");
                }
                words = words.subList(0, maxVocab - roles.size());
            }
        }
        List<SpecialTokens.Entry> entries = new ArrayList<>();
        List<String> vocab = withSpecials(roles, words, entries);
        return new WordTokenizer(vocab, new SpecialTokens(entries));
    }

    /** Words and line breaks of {@code text}; other whitespace only separates. */
    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        int i = 0, n = text.length();
        while (i < n) {
            int cp = text.codePointAt(i);
            if (cp == '\n') {
                out.add("\n");
                i++;
            } else if (isWhiteSpace(cp)) {
                i += Character.charCount(cp);
            } else {
                int start = i;
                while (i < n) {
                    int c = text.codePointAt(i);
                    if (isWhiteSpace(c)) break;
                    i += Character.charCount(c);
                }
                out.add(text.substring(start, i));
            }
        }
        return out;
    }

    /**
     * Unicode's White_Space property, which is what {@code \s} means in Hugging Face's regexes, so
     * this split agrees with the {@code [^\S\n]+} rule written into tokenizer.json.
     */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    @Override
    public String kind() {
        return "word";
    }

    @Override
    protected List<String> pieces(String text) {
        return split(text);
    }

    @Override
    protected String join(List<String> pieces) {
        StringBuilder b = new StringBuilder();
        String prev = "\n";
        for (String p : pieces) {
            if (!prev.equals("\n") && !p.equals("\n")) b.append(' ');
            b.append(p);
            prev = p;
        }
        return b.toString();
    }

    @Override
    protected String pieceName() {
        return "word";
    }
}
