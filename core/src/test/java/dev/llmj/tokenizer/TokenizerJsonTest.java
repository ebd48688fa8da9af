package dev.llmj.tokenizer;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import dev.llmj.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerJsonTest {
    @TempDir
    Path dir;

    private Tokenizer roundTrip(Tokenizer t) {
        Path f = dir.resolve(t.kind() + ".json");
        TokenizerJson.write(t, f);
        return TokenizerJson.read(f);
    }

    private static void assertSameEncoding(Tokenizer a, Tokenizer b, String text) {
        assertEquals(a.vocabSize(), b.vocabSize());
        assertArrayEquals(a.encode(text), b.encode(text));
        assertEquals(a.specials().toString(), b.specials().toString());
        for (int id = 0; id < a.vocabSize(); id++) assertEquals(a.idToToken(id), b.idToToken(id));
    }

    @Test
    void bpeRoundTrips() {
        String text = TestData.shakespeare().substring(0, 200_000);
        ByteBpeTokenizer t = BpeTrainer.train(text, 800, List.of(SpecialTokens.Role.EOS), null);
        Tokenizer back = roundTrip(t);
        assertInstanceOf(ByteBpeTokenizer.class, back);
        assertSameEncoding(t, back, TestData.shakespeare());
        assertEquals(t.specials().id(SpecialTokens.Role.EOS), back.specials().id(SpecialTokens.Role.EOS));
        Map<String, Object> json = Json.obj(Json.parse(TokenizerJson.toJson(t), "t"), "t");
        Map<String, Object> model = Json.obj(json.get("model"), "model");
        assertEquals("BPE", model.get("type"));
        assertEquals("ByteLevel", Json.obj(json.get("pre_tokenizer"), "p").get("type"));
        // GPT-2's printable bytes: a leading space is Ġ
        assertTrue(Json.obj(model.get("vocab"), "v").containsKey("Ġthe"));
    }

    @Test
    void charAndWordRoundTrip() {
        CharTokenizer c = CharTokenizer.build(TestData.tangPoems(), List.of(SpecialTokens.Role.EOS, SpecialTokens.Role.UNK));
        Tokenizer c2 = roundTrip(c);
        assertInstanceOf(CharTokenizer.class, c2);
        assertSameEncoding(c, c2, TestData.tangPoems().substring(0, 10_000));
        assertEquals(c.specials().id(SpecialTokens.Role.UNK), c2.encode("Z")[0]);

        WordTokenizer w = WordTokenizer.build("猫 在 垫子 上\n书 在 桌子 上\n", List.of(SpecialTokens.Role.UNK, SpecialTokens.Role.EOS), 0);
        Tokenizer w2 = roundTrip(w);
        assertInstanceOf(WordTokenizer.class, w2);
        assertSameEncoding(w, w2, "猫 在 桌子 上\n书 在 垫子 上");
    }

    @Test
    void readsAHuggingFaceGpt2StyleFile() {
        // vocab of bytes plus "ab" and "Ġab", merges written both ways HF has used: "a b" and ["a","b"]
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            String s = ByteLevel.toPrintable(new byte[] {(byte) b});
            vocab.append(Json.write(s)).append(':').append(b).append(',');
        }
        vocab.append("\"ab\":256,\"Ġa\":257,\"Ġab\":258");
        String json = """
                {"version":"1.0","added_tokens":[{"id":259,"content":"<|endoftext|>","special":true}],
                 "normalizer":null,
                 "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
                 "decoder":{"type":"ByteLevel"},
                 "model":{"type":"BPE","vocab":{%s},"merges":[["Ġ","a"],"a b","Ġa b"]}}
                """.formatted(vocab);
        Tokenizer t = TokenizerJson.parse(json, "gpt2-like");
        assertEquals(260, t.vocabSize());
        assertArrayEquals(new int[] {256, 258, 32}, t.encode("ab ab "));
        assertEquals(259, t.specials().id(SpecialTokens.Role.EOS));
        assertEquals("x<|endoftext|>", t.decode(t.encodeWithSpecials("x<|endoftext|>")));
    }

    @Test
    void ignoreMergesTakesAWholePieceFromTheVocabulary() {
        // Llama 3's files set "ignore_merges": a piece that is itself a token skips the merges
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) vocab.append(Json.write(ByteLevel.toPrintable(new byte[] {(byte) b}))).append(':').append(b).append(',');
        vocab.append("\"ab\":256,\"abc\":257");
        String template = """
                {"pre_tokenizer":{"type":"Sequence","pretokenizers":[
                   {"type":"Split","pattern":{"Regex":"\\\\p{L}+|\\\\s+"},"behavior":"Isolated","invert":false},
                   {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
                 "model":{"type":"BPE","ignore_merges":%s,"vocab":{%s},"merges":["a b"]}}
                """;
        Tokenizer merging = TokenizerJson.parse(template.formatted("false", vocab), "t");
        Tokenizer whole = TokenizerJson.parse(template.formatted("true", vocab), "t");
        assertArrayEquals(new int[] {256, 'c'}, merging.encode("abc"));
        assertArrayEquals(new int[] {257}, whole.encode("abc"));
        assertArrayEquals(new int[] {256, 'd'}, whole.encode("abd"));
        assertArrayEquals(new int[] {257}, TokenizerJson.parse(TokenizerJson.toJson(whole), "again").encode("abc"), "written back");
    }

    @Test
    void aWordTokenizerWithoutUnkStaysStrictAfterARoundTrip() {
        // the corpus has the word "<unk>", but the tokenizer has no <unk> token
        WordTokenizer t = WordTokenizer.build("猫 <unk> 在", List.of(SpecialTokens.Role.EOS), 0);
        assertThrows(LlmjException.class, () -> t.encode("狗"));
        Tokenizer back = roundTrip(t);
        assertEquals(-1, back.specials().id(SpecialTokens.Role.UNK));
        assertThrows(LlmjException.class, () -> back.encode("狗"));
        assertArrayEquals(t.encode("猫 <unk>"), back.encode("猫 <unk>"));
    }

    @Test
    void layoutsLlmjCannotHonourAreRefused() {
        String wordLevel = """
                {"pre_tokenizer":{"type":"Whitespace"},"model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1,",":2},"unk_token":"[UNK]"}}""";
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.parse(wordLevel, "w")).getMessage().contains("pre_tokenizer Whitespace"));
        String fallback = """
                {"model":{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]}}""";
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.parse(fallback, "l")).getMessage().contains("byte_fallback"));
        String negative = """
                {"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":-3},"merges":[]}}""";
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.parse(negative, "n")).getMessage().contains("out of range"));
        String huge = """
                {"added_tokens":[{"id":2000000000,"content":"<x>","special":true}],"model":{"type":"BPE","vocab":{},"merges":[]}}""";
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.parse(huge, "h")).getMessage().contains("out of range"));
    }

    @Test
    void badFilesAreClearErrors() throws Exception {
        Path missing = dir.resolve("nope.json");
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.read(missing)).getMessage().contains("no such"));
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.read(broken)).getMessage().contains("not valid JSON"));
        Path unigram = dir.resolve("unigram.json");
        Files.writeString(unigram, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertTrue(assertThrows(LlmjException.class, () -> TokenizerJson.read(unigram)).getMessage().contains("Unigram"));
    }
}
