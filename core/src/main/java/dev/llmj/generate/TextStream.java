package dev.llmj.generate;

import dev.llmj.tokenizer.ByteBpeTokenizer;
import dev.llmj.tokenizer.IntList;
import dev.llmj.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Turns generated ids into text as they come, and watches for stop strings. Text is released only
 * when it is final:
 * <ul>
 *   <li>a character split over several byte-level tokens waits for its last byte (no broken U+FFFD);</li>
 *   <li>text that could be the start of a stop string waits until it is clearly not one.</li>
 * </ul>
 * The output is decoded together with the prompt and the prompt's text cut off, so joins come out as
 * the tokenizer makes them (a word tokenizer's space before the first new word, for instance).
 */
final class TextStream {
    interface Sink {
        void text(String s);
    }

    private final Tokenizer tok;
    private final List<String> stops;
    private final int longestStop;
    private final Sink sink;
    private final IntList ids = new IntList();
    private final int promptChars;
    private int released;          // chars of the output already given to the sink
    private String finalText;      // set once a stop string is found

    TextStream(Tokenizer tok, int[] prompt, List<String> stops, Sink sink) {
        this.tok = tok;
        this.stops = stops;
        this.sink = sink;
        int m = 0;
        for (String s : stops) m = Math.max(m, s.length());
        this.longestStop = m;
        ids.addAll(prompt);
        this.promptChars = decode(false).length();
    }

    /** Adds one generated token; true when the text now contains a stop string (generation should end). */
    boolean add(int id) {
        ids.add(id);
        String out = decode(false).substring(promptChars);
        int hit = -1;
        for (String s : stops) {
            int at = out.indexOf(s, Math.max(0, released - s.length() + 1));
            if (at >= 0 && (hit < 0 || at < hit)) hit = at;
        }
        if (hit >= 0) {
            finalText = out.substring(0, hit);
            release(finalText, hit);
            return true;
        }
        release(out, out.length() - heldForStop(out));
        return false;
    }

    /** Releases whatever is still held (an unfinished stop-string prefix, a final partial character). */
    void finish() {
        if (finalText != null) return;
        String out = decode(true).substring(promptChars);
        release(out, out.length());
        finalText = out;
    }

    /** The output text, without the prompt and without the stop string; call after {@link #finish}. */
    String text() {
        return finalText;
    }

    private void release(String out, int upTo) {
        if (upTo > released) {
            sink.text(out.substring(released, upTo));
            released = upTo;
        }
    }

    /** How many trailing chars of {@code out} could begin a stop string. */
    private int heldForStop(String out) {
        for (int k = Math.min(longestStop - 1, out.length()); k > 0; k--) {
            String tail = out.substring(out.length() - k);
            for (String s : stops) if (s.startsWith(tail)) return k;
        }
        return 0;
    }

    /** Prompt + output as text; unless {@code all}, without a trailing incomplete UTF-8 character. */
    private String decode(boolean all) {
        int[] a = ids.toArray();
        if (!(tok instanceof ByteBpeTokenizer bpe)) return tok.decode(a);
        byte[] b = bpe.decodeBytes(a);
        int n = all ? b.length : b.length - incompleteTail(b);
        return new String(Arrays.copyOf(b, n), StandardCharsets.UTF_8);
    }

    /** The length of a UTF-8 sequence cut short at the end of {@code b} (0 if the last character is whole). */
    static int incompleteTail(byte[] b) {
        for (int k = 1; k <= Math.min(3, b.length); k++) {
            int c = b[b.length - k] & 0xFF;
            if ((c & 0xC0) == 0x80) continue;                 // a continuation byte: look further back
            int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return need > k ? k : 0;
        }
        return 0;
    }
}
