package dev.llmj.tokenizer;

import java.util.Random;

/** Random and adversarial strings for tokenizer tests: every script, whitespace kind and edge the regexes care about. */
final class RandomText {
    private static final String[] FRAGMENTS = {
            "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'LL", "'d", "'ſ", "'", "''", " '", "don't", "You'll", "I'M",
            " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\n ", "\u00A0", "\u2028", "\u3000", "\u000B", "\u0085",
            "1", "12", "123", "1234", "12345", " 42", "3½", "٣٤٥", "①②",
            "Hello", " world", "HELLO", "hElLo", "ÆØÅ", "straße", "İstanbul", "ǅemal",
            "猫", "在垫子上", "床前明月光，疑是地上霜。", "한국어", "日本語のテキスト", "ไทย",
            "é", "e\u0301", "a\u0308\u0301", "\u0301", "ﷺ", "Ω", "ß",
            "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\uD83E\uDD16", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\uD840\uDC00",
            "!", "...", "?!", ",", " ,", "/", "//", "<|endoftext|>", "<eos>", "@#$%", "-->", " (", ")\n", "\\",
            "\u0000", "\u0001", "\u007F", "\u200B", "\uFEFF", "\uFFFD",
    };

    private RandomText() {}

    /** A random string of fragments and random code points from many ranges. */
    static String next(Random r, int maxParts) {
        StringBuilder b = new StringBuilder();
        int parts = 1 + r.nextInt(maxParts);
        for (int i = 0; i < parts; i++) {
            if (r.nextInt(3) == 0) {
                b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
            } else {
                b.appendCodePoint(randomCodePoint(r));
            }
        }
        return b.toString();
    }

    static int randomCodePoint(Random r) {
        while (true) {
            int cp = switch (r.nextInt(8)) {
                case 0, 1 -> 0x20 + r.nextInt(0x5F);           // ASCII printable
                case 2 -> r.nextInt(0x20);                      // control and whitespace
                case 3 -> 0x80 + r.nextInt(0x780);              // Latin-1 … Arabic
                case 4 -> 0x4E00 + r.nextInt(0x5200);           // CJK
                case 5 -> 0x1F300 + r.nextInt(0x700);           // emoji and symbols
                case 6 -> r.nextInt(0x110000);                  // anything
                default -> 0x2000 + r.nextInt(0x100);           // punctuation and odd spaces
            };
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;        // surrogates are not characters
            return cp;
        }
    }

    /** Long runs that stress the merge loop and the regexes. */
    static String[] adversarial() {
        return new String[] {
                "a".repeat(5000), " ".repeat(3000) + "x", "\n".repeat(2000), "1".repeat(4001), "!".repeat(3001),
                "ab".repeat(2500), "猫".repeat(2000), "😀".repeat(1500), "e\u0301".repeat(1000), "'s".repeat(1000),
                " a".repeat(2000), "A".repeat(300) + "b".repeat(300), ("x" + "\u00A0").repeat(700), "\r\n".repeat(900) + " ",
                "", " ", "\n", "a", "'", "  \n  x", "x  \n", "\t\t\tx", "a \u3000b",
        };
    }
}
