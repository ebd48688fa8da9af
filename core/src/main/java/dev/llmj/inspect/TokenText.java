package dev.llmj.inspect;

import dev.llmj.tokenizer.ByteBpeTokenizer;
import dev.llmj.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/** A token as a reader should see it in a table or on a heatmap's axis: whitespace made visible, on one line. */
public final class TokenText {
    private TokenText() {}

    /**
     * The token's text with a space as ·, a newline as ↵, a tab as ⇥ and other control characters
     * as \xNN. A byte-level BPE token is decoded from its bytes; one that holds only part of a
     * character shows them as &lt;0xE7&gt;….
     */
    public static String visible(Tokenizer tok, int id) {
        String raw;
        if (tok instanceof ByteBpeTokenizer bpe) {
            byte[] bytes = bpe.tokenBytes(id);
            try {
                raw = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException partOfACharacter) {
                StringBuilder s = new StringBuilder();
                for (byte b : bytes) s.append(String.format("<0x%02X>", b & 0xFF));
                return s.toString();
            }
        } else {
            raw = tok.decode(new int[] {id});
        }
        return visible(raw);
    }

    /** {@code s} with whitespace and control characters replaced by visible marks. */
    public static String visible(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case ' ' -> b.append('·');
                case '\n' -> b.append('↵');
                case '\t' -> b.append('⇥');
                default -> {
                    if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.isEmpty() ? "∅" : b.toString(); // a token that decodes to nothing still needs a mark
    }
}
