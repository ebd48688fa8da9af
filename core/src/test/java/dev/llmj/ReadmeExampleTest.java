package dev.llmj;

import dev.llmj.data.Batcher;
import dev.llmj.data.Corpus;
import dev.llmj.data.TokenFile;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's Java example, as written there, with the values it shows. */
class ReadmeExampleTest {
    @TempDir
    Path out;

    @Test
    void theJavaApiExample() {
        Path corpus = TestData.dataDir().resolve("tinyshakespeare.txt");
        String text = Corpus.read(corpus);
        Tokenizer tok = BpeTrainer.train(text, 4096, List.of(SpecialTokens.Role.EOS), null);
        int[] ids = tok.encode("To be, or not to be");
        assertArrayEquals(new int[] {398, 304, 44, 522, 321, 287, 304}, ids);
        assertEquals("To be, or not to be", tok.decode(ids));
        assertEquals(344_104, tok.encode(text).length);
        TokenizerJson.write(tok, out.resolve("tokenizer.json"));
        assertArrayEquals(ids, TokenizerJson.read(out.resolve("tokenizer.json")).encode("To be, or not to be"));

        try (TokenFile tokens = TokenFile.prepare(corpus, tok, out.resolve("train.tokens"))) {
            assertEquals(344_104, tokens.size());
            TokenFile.Slice[] split = tokens.split(0.1);
            Batcher batcher = new Batcher(split[0], 4, 8, 1337);
            Batcher.Batch batch = batcher.next();
            for (int b = 0; b < 4; b++) {
                for (int t = 0; t < 7; t++) assertEquals(batch.input(b, t + 1), batch.label(b, t));
            }
        }
    }
}
