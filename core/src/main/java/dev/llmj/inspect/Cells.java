package dev.llmj.inspect;

/** Terminal columns: how many cells a string takes (East Asian wide characters and emoji count two), and padding to a width. */
public final class Cells {
    private Cells() {}

    /** Cells a string takes in a terminal: wide (CJK, emoji) characters count two, combining marks none. */
    public static int width(String s) {
        int w = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.getType(cp) == Character.NON_SPACING_MARK || cp == 0x200D) continue;
            w += isWide(cp) ? 2 : 1;
        }
        return w;
    }

    private static boolean isWide(int cp) {
        return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F)
                || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F)
                || (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F)
                || (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
    }

    /** {@code s} padded with spaces on the right to {@code cells} cells. */
    public static String padRight(String s, int cells) {
        int w = width(s);
        return w >= cells ? s : s + " ".repeat(cells - w);
    }

    /** {@code s} padded with spaces on the left to {@code cells} cells. */
    public static String padLeft(String s, int cells) {
        int w = width(s);
        return w >= cells ? s : " ".repeat(cells - w) + s;
    }

    /** {@code s} cut to at most {@code cells} cells, ending in "…" where it was cut. */
    public static String cut(String s, int cells) {
        if (width(s) <= cells) return s;
        StringBuilder b = new StringBuilder();
        int w = 1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int cw = width(Character.toString(cp));
            if (w + cw > cells) break;
            b.appendCodePoint(cp);
            w += cw;
            i += Character.charCount(cp);
        }
        return b.append('…').toString();
    }
}
