package dev.llmj.tokenizer;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VocabularyTokenizerTest {

    @Test
    void shakespeareCharactersAreNanoGptsVocabulary() {
        String text = TestData.shakespeare();
        CharTokenizer t = CharTokenizer.build(text, List.of());
        assertEquals(65, t.vocabSize());
        // nanoGPT: chars = sorted(list(set(data))); stoi = {ch: i for i, ch in enumerate(chars)}
        TreeSet<Character> chars = new TreeSet<>();
        for (char c : text.toCharArray()) chars.add(c);
        int i = 0;
        for (char c : chars) assertEquals(i++, t.tokenToId(String.valueOf(c)));
        assertEquals("\n", t.idToToken(0));
        assertEquals(" ", t.idToToken(1));
        assertArrayEquals(new int[] {46, 47, 47, 1, 58, 46, 43, 56, 43}, t.encode("hii there")); // nanoGPT's example
        assertEquals(text, t.decode(t.encode(text)));
        assertTrue(t.specials().entries().isEmpty());
    }

    @Test
    void chineseCharactersAreOneTokenEach() {
        String poems = TestData.tangPoems();
        CharTokenizer t = CharTokenizer.build(poems, List.of(SpecialTokens.Role.EOS));
        int[] ids = t.encode("床前明月光");
        assertEquals(5, ids.length);
        assertEquals("床前明月光", t.decode(ids));
        assertEquals(poems, t.decode(t.encode(poems)));
        assertEquals(t.vocabSize() - 1, t.specials().id(SpecialTokens.Role.EOS));
        // a supplementary character is one token too, not two UTF-16 halves
        CharTokenizer emoji = CharTokenizer.build("a😀b", List.of());
        assertEquals(3, emoji.vocabSize());
        assertEquals(3, emoji.encode("😀ab").length);
    }

    @Test
    void unknownCharacterIsAnErrorOrUnk() {
        CharTokenizer strict = CharTokenizer.build("abc", List.of());
        LlmjException e = assertThrows(LlmjException.class, () -> strict.encode("abz"));
        assertTrue(e.getMessage().contains("'z' (U+007A)"), e.getMessage());
        CharTokenizer lenient = CharTokenizer.build("abc", List.of(SpecialTokens.Role.UNK));
        int unk = lenient.specials().id(SpecialTokens.Role.UNK);
        assertArrayEquals(new int[] {lenient.tokenToId("a"), unk}, lenient.encode("az"));
    }

    @Test
    void theTutorialsWordExample() {
        WordTokenizer t = WordTokenizer.build("猫 在 垫子 上\n书 在 桌子 上\n狗 在 床 上\n", List.of(SpecialTokens.Role.UNK), 0);
        int[] ids = t.encode("猫 在 垫子 上");
        assertEquals(4, ids.length);
        assertEquals(List.of("猫", "在", "垫子", "上"), List.of(t.idToToken(ids[0]), t.idToToken(ids[1]), t.idToToken(ids[2]), t.idToToken(ids[3])));
        // most frequent first after the specials: 在 and 上 occur three times, the line break three times
        assertEquals("<unk>", t.idToToken(0));
        assertEquals(3, t.encode("在 上 \n").length);
        assertEquals("猫 在 垫子 上\n书 在 桌子 上", t.decode(t.encode("猫  在\t垫子 上\n书 在 桌子 上")));
        assertEquals(t.specials().id(SpecialTokens.Role.UNK), t.encode("鸟")[0]);
    }

    @Test
    void wordsSplitOnUnicodeWhiteSpaceAsHuggingFaceDoes() {
        // \s in the tokenizer.json rule is White_Space: U+0085, U+3000 and U+00A0 separate words; U+001C does not
        WordTokenizer t = WordTokenizer.build("猫 在", List.of(SpecialTokens.Role.UNK), 0);
        int cat = t.tokenToId("猫"), at = t.tokenToId("在"), unk = t.specials().id(SpecialTokens.Role.UNK);
        for (String sep : List.of("\u0085", "\u3000", "\u00A0", "\t", "\u000B", "\u2028")) {
            assertArrayEquals(new int[] {cat, at}, t.encode("猫" + sep + "在"), "separator U+" + Integer.toHexString(sep.charAt(0)));
        }
        assertArrayEquals(new int[] {unk}, t.encode("猫\u001C在"));
        java.util.regex.Pattern rule = java.util.regex.Pattern.compile("[^\\S\\n]", java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
        for (int cp = 0; cp < 0x10000; cp++) {
            boolean expected = cp != '\n' && rule.matcher(Character.toString(cp)).matches();
            assertEquals(expected, cp != '\n' && WordTokenizer.isWhiteSpace(cp), "U+" + Integer.toHexString(cp));
        }
    }

    @Test
    void wordVocabularyCapNeedsUnk() {
        String corpus = "a a a b b c";
        WordTokenizer capped = WordTokenizer.build(corpus, List.of(SpecialTokens.Role.UNK), 3);
        assertEquals(List.of("<unk>", "a", "b"), capped.vocabulary());
        assertArrayEquals(new int[] {1, 2, 0}, capped.encode("a b c"));
        assertThrows(LlmjException.class, () -> WordTokenizer.build(corpus, List.of(), 2));
    }

    @Test
    void specialTokenTextIsPlainTextUnlessAsked() {
        WordTokenizer t = WordTokenizer.build("猫 在 垫子 上", List.of(SpecialTokens.Role.UNK, SpecialTokens.Role.MASK), 0);
        int mask = t.specials().id(SpecialTokens.Role.MASK), unk = t.specials().id(SpecialTokens.Role.UNK);
        assertEquals(mask, t.encodeWithSpecials("猫 在 <mask> 上")[2]);
        assertEquals(unk, t.encode("猫 在 <mask> 上")[2], "typed as plain text, <mask> is an unknown word");
        WordTokenizer strict = WordTokenizer.build("猫 在", List.of(SpecialTokens.Role.EOS), 0);
        LlmjException e = assertThrows(LlmjException.class, () -> strict.encode("猫 <eos>"));
        assertTrue(e.getMessage().contains("special token's text"), e.getMessage());
        assertEquals(strict.specials().id(SpecialTokens.Role.EOS), strict.encodeWithSpecials("猫 <eos>")[1]);
        CharTokenizer c = CharTokenizer.build("<eos>ab", List.of(SpecialTokens.Role.EOS));
        int eos = c.specials().id(SpecialTokens.Role.EOS);
        assertArrayEquals(new int[] {c.tokenToId("a"), eos, c.tokenToId("b")}, c.encodeWithSpecials("a<eos>b"));
        assertEquals(7, c.encode("a<eos>b").length); // ordinary encoding: five characters of text
    }
}
