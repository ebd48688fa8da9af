package dev.llmj.cli;

import dev.llmj.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI as a user meets it: real commands, their output, and one clear line with status 2 on bad input. */
class CliTest {
    @TempDir
    Path dir;

    static Path shakespeare;

    record Result(int status, String out, String err) {
        /** The error output is exactly one line starting "llmj: " that contains {@code part}. */
        void isOneLineError(String part) {
            assertEquals(2, status, "exit status; stderr: " + err);
            assertEquals(1, err.strip().lines().count(), "one line: " + err);
            assertTrue(err.startsWith("llmj: ") && err.contains(part), err);
            assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
        }
    }

    @BeforeAll
    static void findData() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data/tinyshakespeare.txt"))) {
                shakespeare = p.resolve("data/tinyshakespeare.txt");
                System.setProperty("llmj.home", p.toString());
                return;
            }
        }
        throw new IllegalStateException("data/ not found");
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void helpListsTheCommands() {
        Result r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("tokenize") && r.out().contains("train-tokenizer"), r.out());
        Result sub = run("train-tokenizer", "--help");
        assertEquals(0, sub.status());
        for (String opt : List.of("--data", "--kind", "--vocab-size", "--specials", "--out")) assertTrue(sub.out().contains(opt), opt);
    }

    @Test
    void lessonPrintsTheCurveAndTheAttention() {
        Result r = run("lesson", "--steps", "5", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> m = Json.obj(Json.parse(r.out(), "lesson"), "lesson");
        assertEquals(List.of("猫", "在", "垫子"), m.get("prompt_words"));
        assertEquals(4, Json.arr(m.get("curve"), "curve").size(), "steps 0, 1, 2, 5");
        Result text = run("lesson", "--steps", "5");
        assertEquals(0, text.status(), text.err());
        assertTrue(text.out().contains("P(上 | 猫 在 垫子)") && text.out().contains("layer 1 head 1"), text.out());
        run("lesson", "--steps", "0").isOneLineError("--steps must be at least 1");
    }

    @Test
    void tokenizeWithACharTokenizerBuiltOnTheFly() {
        Result r = run("tokenize", "--data", shakespeare.toString(), "--text", "hii there", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> m = Json.obj(Json.parse(r.out(), "out"), "out");
        assertEquals(List.of(46L, 47L, 47L, 1L, 58L, 46L, 43L, 56L, 43L), m.get("ids"));
        assertEquals(List.of("h", "i", "i", " ", "t", "h", "e", "r", "e"), m.get("tokens"));

        Result table = run("tokenize", "--data", shakespeare.toString(), "--text", "To be", "--labels");
        assertEquals(0, table.status(), table.err());
        assertTrue(table.out().contains("5 characters → 5 tokens"), table.out());
        // the last row of the input/label table: context "To b" must predict 'e'
        assertTrue(table.out().lines().anyMatch(l -> l.matches("\\s+3\\s+40 'b'\\s+43 'e'\\s+To b → 'e'")), table.out());
    }

    @Test
    void trainBpeThenTokenizeWithIt() throws Exception {
        Path out = dir.resolve("tok.json");
        Result r = run("train-tokenizer", "--data", shakespeare.toString(), "--vocab-size", "512", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("vocabulary: 512 tokens = 256 bytes + 255 merges + 1 special"), r.out());
        assertTrue(Files.isRegularFile(out));
        Result t = run("tokenize", "--tokenizer", out.toString(), "--text", "猫 and 😀", "--json");
        assertEquals(0, t.status(), t.err());
        Map<String, Object> m = Json.obj(Json.parse(t.out(), "out"), "out");
        assertTrue(Json.arr(m.get("ids"), "ids").size() >= 9, "unseen characters fall back to bytes");
        // the folder of a model works as --tokenizer too
        Files.move(out, dir.resolve("tokenizer.json"));
        assertEquals(0, run("tokenize", "--tokenizer", dir.toString(), "--text", "hello").status());
    }

    @Test
    void trainCharAndWordTokenizers() throws Exception {
        Path corpus = dir.resolve("words.txt");
        Files.writeString(corpus, "猫 在 垫子 上\n书 在 桌子 上\n");
        Path words = dir.resolve("words.json");
        Result w = run("train-tokenizer", "--kind", "word", "--data", corpus.toString(), "--specials", "unk,eos,mask", "--out", words.toString());
        assertEquals(0, w.status(), w.err());
        Result t = run("tokenize", "--tokenizer", words.toString(), "--text", "猫 在 <mask> 上", "--specials", "--json");
        Map<String, Object> m = Json.obj(Json.parse(t.out(), "out"), "out");
        assertEquals(List.of("猫", "在", "<mask>", "上"), m.get("tokens"));
        Path chars = dir.resolve("chars.json");
        assertEquals(0, run("train-tokenizer", "--kind", "char", "--data", corpus.toString(), "--out", chars.toString()).status());
        Result c = run("tokenize", "--tokenizer", chars.toString(), "--text", "垫子", "--json");
        assertEquals(List.of("垫", "子"), Json.obj(Json.parse(c.out(), "out"), "out").get("tokens"));
    }

    @Test
    void badInputGetsOneLineAndStatusTwo() throws Exception {
        Path out = dir.resolve("t.json");
        run("train-tokenizer", "--data", dir.resolve("missing.txt").toString(), "--out", out.toString()).isOneLineError("does not exist");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        run("train-tokenizer", "--data", empty.toString(), "--out", out.toString()).isOneLineError("is empty");
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9});
        run("train-tokenizer", "--data", latin1.toString(), "--out", out.toString()).isOneLineError("not UTF-8");
        run("train-tokenizer", "--data", shakespeare.toString(), "--vocab-size", "100", "--out", out.toString()).isOneLineError("one token for each of the 256 byte values");
        run("train-tokenizer", "--kind", "sentencepiece", "--out", out.toString()).isOneLineError("unknown --kind");
        run("train-tokenizer", "--specials", "eos,sep", "--out", out.toString()).isOneLineError("unknown special token 'sep'");
        run("tokenize", "--data", shakespeare.toString(), "--text", "猫").isOneLineError("'猫' (U+732B) is not in the vocabulary");
        run("tokenize", "--data", shakespeare.toString(), "--text", "").isOneLineError("tokenizes to nothing");
        run("tokenize", "--tokenizer", dir.resolve("nope.json").toString(), "--text", "x").isOneLineError("does not exist");
        assertFalse(Files.exists(out), "no output file from failed runs");
    }

    @Test
    void fileInputPatternsAndBench() throws Exception {
        Path text = dir.resolve("to-be.txt");
        Files.writeString(text, "To be, or not to be: that is the question.\n".repeat(200));
        Result r = run("tokenize", "--data", shakespeare.toString(), "--file", text.toString(), "--labels");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("8600 characters → 8600 tokens"), r.out().lines().limit(3).toList().toString()); // 43 × 200
        // long texts show only the recent context, marked with …
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("8598 ") && l.contains("…")), "last row cut with …");
        Path tok = dir.resolve("cl.json");
        Result p = run("train-tokenizer", "--data", shakespeare.toString(), "--vocab-size", "300", "--pattern", "cl100k", "--out", tok.toString());
        assertEquals(0, p.status(), p.err());
        run("train-tokenizer", "--pattern", "(unclosed", "--out", tok.toString()).isOneLineError("--pattern is not a valid regex");
        Result b = run("bench", "tokenizer", "--data", text.toString(), "--vocab-size", "300", "--runs", "1", "--json");
        assertEquals(0, b.status(), b.err());
        Map<String, Object> m = Json.obj(Json.parse(b.out(), "bench"), "bench");
        assertTrue((Double) m.get("encode_mb_per_sec") > 0 && (Double) m.get("train_seconds") > 0, b.out());
        run("bench", "tokenizer", "--runs", "0").isOneLineError("--runs");
    }

    @Test
    void unknownOptionsPointToHelp() {
        Result r = run("tokenize", "--txet", "x");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("llmj: "), r.err());
        assertTrue(r.err().contains("Try 'llmj tokenize --help'"), r.err());
    }

    @Test
    void aFailedRunLeavesTheExistingFileAndNoTemporaryFiles() throws Exception {
        Path out = dir.resolve("keep.json");
        Files.writeString(out, "precious");
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {(byte) 0xFF});
        run("train-tokenizer", "--data", bad.toString(), "--out", out.toString()).isOneLineError("not UTF-8");
        assertEquals("precious", Files.readString(out));
        // an unwritable target: a path below a regular file
        run("train-tokenizer", "--data", shakespeare.toString(), "--kind", "char", "--out", out.resolve("x.json").toString())
                .isOneLineError("cannot write");
        assertEquals("precious", Files.readString(out));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void verboseShowsTheStackTrace() {
        Result r = run("tokenize", "--data", "/no/such/file", "--text", "x", "--verbose");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("LlmjException") && r.err().contains("\tat "), r.err());
        Result deep = run("bench", "tokenizer", "--runs", "0", "--verbose"); // two subcommands down
        assertTrue(deep.err().contains("\tat "), deep.err());
    }
}
