package dev.llmj.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import dev.llmj.TestData;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our byte-level BPE, reading tiktoken rank files, gives jtokkit's ids token for token: on the
 * whole of both bundled corpora and on random and adversarial strings, for r50k, cl100k and o200k.
 */
class TiktokenParityTest {
    private static final EncodingRegistry REGISTRY = Encodings.newDefaultEncodingRegistry();

    static ByteBpeTokenizer ours(Tiktoken.Encoding enc) {
        try (InputStream in = Encoding.class.getResourceAsStream("/com/knuddels/jtokkit/" + enc.name() + ".tiktoken")) {
            return Tiktoken.read(in, enc, enc.name());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Encoding theirs(Tiktoken.Encoding enc) {
        return REGISTRY.getEncoding(switch (enc.name()) {
            case "r50k_base" -> EncodingType.R50K_BASE;
            case "p50k_base" -> EncodingType.P50K_BASE;
            case "cl100k_base" -> EncodingType.CL100K_BASE;
            default -> EncodingType.O200K_BASE;
        });
    }

    @TestFactory
    Stream<DynamicTest> sameIdsAsJtokkit() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Tiktoken.Encoding enc : List.of(Tiktoken.R50K, Tiktoken.P50K, Tiktoken.CL100K, Tiktoken.O200K)) {
            tests.add(DynamicTest.dynamicTest(enc.name(), () -> {
                ByteBpeTokenizer ours = ours(enc);
                Encoding theirs = theirs(enc);
                assertEquals(theirs.getName(), enc.name());
                for (String corpus : List.of(TestData.shakespeare(), TestData.tangPoems())) {
                    int[] expected = theirs.encodeOrdinary(corpus).toArray();
                    int[] actual = ours.encode(corpus);
                    assertSameIds(expected, actual, enc.name() + " on a bundled corpus");
                    assertEquals(corpus, ours.decode(actual));
                }
                for (String s : RandomText.adversarial()) {
                    assertSameIds(theirs.encodeOrdinary(s).toArray(), ours.encode(s), enc.name() + " on " + preview(s));
                    assertEquals(s, ours.decode(ours.encode(s)));
                }
                Random r = new Random(42);
                for (int i = 0; i < 3000; i++) {
                    String s = RandomText.next(r, 40);
                    int[] actual = ours.encode(s);
                    assertSameIds(theirs.encodeOrdinary(s).toArray(), actual, enc.name() + " on " + preview(s));
                    assertEquals(s, ours.decode(actual), "round trip of " + preview(s));
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> specialTokensMatch() {
        return Stream.of(Tiktoken.R50K, Tiktoken.CL100K, Tiktoken.O200K).map(enc -> DynamicTest.dynamicTest(enc.name(), () -> {
            ByteBpeTokenizer ours = ours(enc);
            Encoding theirs = theirs(enc);
            String text = "Hello<|endoftext|>world";
            // jtokkit refuses to encode special tokens, but decodes them: each of ours must decode there to its text
            int[] ids = ours.encodeWithSpecials(text);
            assertEquals(3, ids.length, "Hello, the special token, world");
            for (SpecialTokens.Entry e : ours.specials().entries()) {
                com.knuddels.jtokkit.api.IntArrayList one = new com.knuddels.jtokkit.api.IntArrayList();
                one.add(e.id());
                assertEquals(e.text(), theirs.decode(one), "jtokkit's text for id " + e.id());
            }
            assertEquals(SpecialTokens.ENDOFTEXT, ours.idToToken(ids[1]));
            assertArrayEquals(theirs.encodeOrdinary(text).toArray(), ours.encode(text), "ordinary encoding treats it as text");
            assertEquals(text, ours.decode(ours.encodeWithSpecials(text)));
        }));
    }

    private static void assertSameIds(int[] expected, int[] actual, String what) {
        if (java.util.Arrays.equals(expected, actual)) return;
        int i = 0;
        while (i < Math.min(expected.length, actual.length) && expected[i] == actual[i]) i++;
        fail(what + ": ids differ first at token " + i + " of " + expected.length + " (jtokkit "
                + slice(expected, i) + ", ours " + slice(actual, i) + ")");
    }

    private static String slice(int[] a, int i) {
        return java.util.Arrays.toString(java.util.Arrays.copyOfRange(a, Math.max(0, i - 2), Math.min(a.length, i + 4)));
    }

    static String preview(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().limit(30).forEach(cp -> {
            if (cp < 0x20 || cp > 0x7E) b.append(String.format("\\u{%X}", cp));
            else b.appendCodePoint(cp);
        });
        return b.append(s.codePointCount(0, s.length()) > 30 ? "…\"" : "\"").toString();
    }
}
