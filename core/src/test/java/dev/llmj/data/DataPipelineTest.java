package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataPipelineTest {
    @TempDir
    Path dir;

    @Test
    void corpusMustBeUtf8AndNonEmpty() throws Exception {
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        LlmjException e = assertThrows(LlmjException.class, () -> Corpus.read(latin1));
        assertTrue(e.getMessage().contains("not UTF-8") && e.getMessage().contains("0xE9 at offset 3"), e.getMessage());
        Path truncated = dir.resolve("cut.txt");
        Files.write(truncated, new byte[] {'a', (byte) 0xE7, (byte) 0x8C}); // the first two bytes of 猫
        assertTrue(assertThrows(LlmjException.class, () -> Corpus.read(truncated)).getMessage().contains("not UTF-8"));
        Path empty = dir.resolve("empty.txt");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(LlmjException.class, () -> Corpus.read(empty)).getMessage().contains("is empty"));
        assertTrue(assertThrows(LlmjException.class, () -> Corpus.read(dir.resolve("missing.txt"))).getMessage().contains("does not exist"));
        Path ok = dir.resolve("ok.txt");
        Files.writeString(ok, "猫 在 垫子 上");
        assertEquals("猫 在 垫子 上", Corpus.read(ok));
    }

    @Test
    void tokenFileHoldsTheIdsWithEosBetweenDocuments() throws Exception {
        Path docs = dir.resolve("docs");
        Files.createDirectories(docs);
        Files.writeString(docs.resolve("a.txt"), "猫 在 垫子 上");
        Files.writeString(docs.resolve("b.txt"), "狗 在 床 上");
        WordTokenizer tok = WordTokenizer.build("猫 在 垫子 上 狗 床", List.of(SpecialTokens.Role.EOS), 0);
        Path out = dir.resolve("train.tokens");
        try (TokenFile f = TokenFile.prepare(docs, tok, out)) {
            assertEquals(9, f.size());
            int eos = tok.specials().id(SpecialTokens.Role.EOS);
            int[] all = new int[9];
            f.read(0, all, 0, 9);
            int[] a = tok.encode("猫 在 垫子 上"), b = tok.encode("狗 在 床 上");
            assertArrayEquals(new int[] {a[0], a[1], a[2], a[3], eos, b[0], b[1], b[2], b[3]}, all);
            assertEquals(2 * 9 + 32, Files.size(out), "2 bytes a token for a small vocabulary");
        }
        long written = Files.getLastModifiedTime(out).toMillis();
        Thread.sleep(5);
        try (TokenFile again = TokenFile.prepare(docs, tok, out)) {
            assertEquals(9, again.size());
        }
        assertEquals(written, Files.getLastModifiedTime(out).toMillis(), "an up-to-date token file is reused, not rewritten");
        // another tokenizer of the same size: the file is stale and is rebuilt with its ids
        WordTokenizer other = WordTokenizer.build("猫 猫 猫 在 上 垫子 狗 床", List.of(SpecialTokens.Role.EOS), 0);
        assertEquals(tok.vocabSize(), other.vocabSize());
        try (TokenFile rebuilt = TokenFile.prepare(docs, other, out)) {
            assertEquals(other.encode("猫 在 垫子 上")[0], rebuilt.get(0));
            assertNotEquals(tok.encode("猫")[0], rebuilt.get(0));
        }
    }

    @Test
    void largeVocabulariesUseFourBytesAndCorruptFilesAreNamed() throws Exception {
        StringBuilder b = new StringBuilder();
        for (int cp = 0x4E00; cp < 0x4E00 + 70_000 && cp < 0x10FFFF; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            b.appendCodePoint(cp);
        }
        CharTokenizer big = CharTokenizer.build(b.toString(), List.of());
        assertTrue(big.vocabSize() > 65536);
        Path out = dir.resolve("big.tokens");
        TokenFile.write(out, big, List.of(b.substring(b.length() - 40)), 1);
        try (TokenFile f = TokenFile.open(out)) {
            assertEquals(big.encode(b.substring(b.length() - 40))[19], f.get(19));
            assertTrue(f.get(19) > 65535);
        }
        Files.write(out, java.util.Arrays.copyOf(Files.readAllBytes(out), (int) Files.size(out) - 3));
        LlmjException e = assertThrows(LlmjException.class, () -> TokenFile.open(out));
        assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains(out.toString()), e.getMessage());
        // a header claiming 2^62 tokens must not pass the size check by overflowing it
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        header.put("LLMJTOK1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(4).putInt(10).putLong(1L << 62).putLong(0);
        Path liar = dir.resolve("liar.tokens");
        Files.write(liar, header.array());
        assertTrue(assertThrows(LlmjException.class, () -> TokenFile.open(liar)).getMessage().contains("corrupt"));
        Path text = dir.resolve("text.tokens");
        Files.writeString(text, "this is not a token file at all, just text");
        assertTrue(assertThrows(LlmjException.class, () -> TokenFile.open(text)).getMessage().contains("LLMJTOK1"));
    }

    private TokenFile shakespeareTokens() {
        String text = TestData.shakespeare();
        CharTokenizer tok = CharTokenizer.build(text, List.of());
        Path out = dir.resolve("shakespeare.tokens");
        TokenFile.write(out, tok, List.of(text), 0);
        return TokenFile.open(out);
    }

    @Test
    void splitKeepsTheLastTenPercentForValidation() {
        try (TokenFile f = shakespeareTokens()) {
            TokenFile.Slice[] s = f.split(0.1);
            assertEquals(1_115_394, f.size());
            assertEquals(111_539, s[1].length());
            assertEquals(f.size(), s[0].length() + s[1].length());
            assertEquals(s[0].length(), s[1].start());
            assertEquals(f.get(s[1].start()), s[1].get(0));
        }
    }

    @Test
    void batchesAreWindowsWithLabelsShiftedByOne() {
        try (TokenFile f = shakespeareTokens()) {
            TokenFile.Slice train = f.split(0.1)[0];
            Batcher batcher = new Batcher(train, 4, 8, 1337);
            Batcher.Batch batch = batcher.next();
            assertEquals(32, batch.inputIds().length);
            for (int b = 0; b < 4; b++) {
                for (int t = 0; t + 1 < 8; t++) assertEquals(batch.input(b, t + 1), batch.label(b, t), "label t is input t+1");
                // each row is a real window of the data: find it
                int[] row = java.util.Arrays.copyOfRange(batch.inputIds(), b * 8, b * 8 + 8);
                assertTrue(occursIn(train, row, batch.label(b, 7)), "row " + b + " is a window of the training data");
            }
            // same seed, same batches; another seed, other batches
            Batcher again = new Batcher(train, 4, 8, 1337);
            assertArrayEquals(batch.inputIds().clone(), again.next().inputIds());
            Batcher other = new Batcher(train, 4, 8, 1338);
            assertNotEquals(java.util.Arrays.toString(batch.inputIds()), java.util.Arrays.toString(other.next().inputIds()));
        }
    }

    private static boolean occursIn(TokenFile.Slice data, int[] row, int next) {
        outer:
        for (long s = 0; s + row.length < data.length(); s++) {
            for (int i = 0; i < row.length; i++) if (data.get(s + i) != row[i]) continue outer;
            if (data.get(s + row.length) == next) return true;
        }
        return false;
    }

    @Test
    void resumingFromAStateDrawsTheSameWindows() {
        try (TokenFile f = shakespeareTokens()) {
            TokenFile.Slice train = f.split(0.1)[0];
            Batcher a = new Batcher(train, 2, 16, 5);
            for (int i = 0; i < 10; i++) a.next();
            long state = a.state();
            int[] expected = a.next().inputIds().clone();
            Batcher b = new Batcher(train, 2, 16, 999);
            b.setState(state);
            assertArrayEquals(expected, b.next().inputIds());
        }
    }

    @Test
    void windowsCoverTheWholeRangeAndNeverRunPastIt() throws Exception {
        Path p = dir.resolve("tiny.tokens");
        CharTokenizer tok = CharTokenizer.build("abcdefghij", List.of());
        TokenFile.write(p, tok, List.of("abcdefghij"), 0);
        try (TokenFile f = TokenFile.open(p)) {
            Batcher batcher = new Batcher(f.slice(0, 10), 1, 4, 1);
            Set<Integer> starts = new HashSet<>();
            for (int i = 0; i < 500; i++) starts.add(batcher.next().input(0, 0));
            assertEquals(Set.of(0, 1, 2, 3, 4, 5), starts, "every start in [0, N − T − 1] and no other");
            LlmjException e = assertThrows(LlmjException.class, () -> new Batcher(f.slice(0, 10), 1, 10, 1));
            assertTrue(e.getMessage().contains("fewer than one window"), e.getMessage());
        }
    }
}
