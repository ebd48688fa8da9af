package dev.llmj.cli;

/** Terminal text helpers: column widths that count East Asian characters as two cells. */
final class Text {
    private Text() {}

    /** Cells a string takes in a terminal: wide (CJK, emoji) characters count two. */
    static int width(String s) {
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

    /** {@code s} padded with spaces on the right to {@code cells} terminal cells. */
    static String padRight(String s, int cells) {
        int w = width(s);
        return w >= cells ? s : s + " ".repeat(cells - w);
    }

    /** {@code s} cut from the left to at most {@code cells} cells, with "…" where it was cut. */
    static String tail(String s, int cells) {
        if (width(s) <= cells) return s;
        int i = s.length();
        int w = 1;
        while (i > 0) {
            int cp = s.codePointBefore(i);
            int cw = width(Character.toString(cp));
            if (w + cw > cells) break;
            w += cw;
            i -= Character.charCount(cp);
        }
        return "…" + s.substring(i);
    }

    /** A token shown in single quotes so leading and trailing spaces are visible. */
    static String quoted(String token) {
        return "'" + token + "'";
    }
}
