package dev.llmj.tokenizer;

import dev.llmj.io.Json;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tokenizer.json files written by llmj (bpe with GPT-2's and with cl100k's pre-tokenisation, char,
 * word) give the ids that Hugging Face's own Rust tokenizers gave for them: the fixtures in
 * {@code src/test/resources/hf/}, made by {@code tools/hf-tokenizer-check/make-fixtures.mjs}.
 * Hugging Face splits added tokens out of the text by default, so the comparison is with
 * {@link Tokenizer#encodeWithSpecials}.
 */
class HuggingFaceFixtureTest {

    @TestFactory
    Stream<DynamicTest> sameIdsAsHuggingFace() throws Exception {
        Path root = Path.of(HuggingFaceFixtureTest.class.getResource("/hf").toURI());
        List<Path> dirs;
        try (Stream<Path> s = Files.list(root)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        }
        assertEquals(4, dirs.size(), "bpe, bpe-cl100k, char and word fixtures");
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Tokenizer tok = TokenizerJson.read(dir.resolve("tokenizer.json"));
            Map<String, Object> expected = Json.obj(Json.parse(Files.readString(dir.resolve("expected.json")), "expected.json"), "expected");
            List<Object> cases = Json.arr(expected.get("cases"), "cases");
            assertTrue(cases.size() >= 15);
            for (Object o : cases) {
                Map<String, Object> c = Json.obj(o, "case");
                String text = Json.str(c.get("text"), "text");
                int[] ids = Json.arr(c.get("ids"), "ids").stream().mapToInt(x -> (int) (long) (Long) x).toArray();
                assertArrayEquals(ids, tok.encodeWithSpecials(text), dir.getFileName() + ": " + TiktokenParityTest.preview(text));
                if (tok instanceof ByteBpeTokenizer) assertEquals(text, tok.decode(ids), "byte-level BPE decodes losslessly");
            }
            // and what llmj writes for it now is what was written then
            assertEquals(Files.readString(dir.resolve("tokenizer.json")), TokenizerJson.toJson(tok));
        }));
    }
}
