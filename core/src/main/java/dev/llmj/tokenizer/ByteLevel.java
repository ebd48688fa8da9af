package dev.llmj.tokenizer;

/**
 * GPT-2's byte ↔ printable-character mapping ({@code bytes_to_unicode}): each of the 256 byte
 * values gets a visible character, so byte-level tokens can be stored as JSON strings. Printable
 * Latin-1 bytes map to themselves; the rest (space, control bytes, …) to U+0100 onwards, which is
 * why a leading space shows as {@code Ġ} (U+0120).
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** Bytes → GPT-2's printable string. */
    public static String toPrintable(byte[] bytes) {
        char[] cs = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) cs[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(cs);
    }

    /** GPT-2's printable string → bytes, or null if it has a character outside the mapping. */
    public static byte[] fromPrintable(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }
}
