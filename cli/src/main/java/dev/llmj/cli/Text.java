package dev.llmj.cli;

/** Terminal text helpers: column widths that count East Asian characters as two cells. */
final class Text {
    private Text() {}

    /** Cells a string takes in a terminal: wide (CJK, emoji) characters count two. */
    static int width(String s) {
        return dev.llmj.inspect.Cells.width(s);
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
