package dev.llmj.data;

import dev.llmj.LlmjException;

/**
 * Numbers spelled out in English words, American style (no "and"; hyphens from twenty-one to
 * ninety-nine): {@code 4071 → "four thousand seventy-one"}. The target side of the bundled
 * encoder–decoder task ({@link DemoCorpora#numberPairs}).
 */
public final class NumberWords {
    private static final String[] SMALL = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    private static final String[] TENS = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
    private static final String[] GROUPS = {"", " thousand", " million"};

    private NumberWords() {}

    /** {@code n} in words, for 0 ≤ n < 10⁹. */
    public static String words(int n) {
        if (n < 0 || n >= 1_000_000_000) throw new LlmjException("can spell out numbers from 0 to 999,999,999, not " + n);
        if (n == 0) return SMALL[0];
        StringBuilder b = new StringBuilder();
        int divisor = 1_000_000;
        for (int g = 2; g >= 0; g--, divisor /= 1000) { // millions, thousands, units: each group is 0…999
            int group = n / divisor % 1000;
            if (group == 0) continue;
            if (!b.isEmpty()) b.append(' ');
            b.append(belowThousand(group)).append(GROUPS[g]);
        }
        return b.toString();
    }

    /** 1 ≤ n ≤ 999: "seven hundred", "seventy-one", "one hundred five". */
    private static String belowThousand(int n) {
        StringBuilder b = new StringBuilder();
        if (n >= 100) {
            b.append(SMALL[n / 100]).append(" hundred");
            n %= 100;
            if (n == 0) return b.toString();
            b.append(' ');
        }
        if (n < 20) return b.append(SMALL[n]).toString();
        b.append(TENS[n / 10]);
        if (n % 10 != 0) b.append('-').append(SMALL[n % 10]);
        return b.toString();
    }
}
