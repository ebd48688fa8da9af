package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.TokenizerJson;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llmj train --objective mlm as a user runs it: a short run on the bundled corpus, its folder used by fill-mask, resumed; bad input. */
class MlmTrainCliTest {
    @TempDir
    Path dir;

    static final String[] SMALL = {"--d-model", "16", "--heads", "2", "--layers", "1", "--batch-size", "8", "--context-length", "16",
            "--eval-batches", "2", "--threads", "1"};

    @BeforeAll
    static void findData() {
        CliTest.findData(); // llmj.home: where the bundled corpus lies
    }

    static String[] args(String[] a, String... more) {
        String[] all = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, all, a.length, more.length);
        return all;
    }

    @Test
    void trainsOnTheBundledCorpusThenFillsMasksAndResumes() throws Exception {
        Path out = dir.resolve("bert");
        CliTest.Result r = CliTest.run(args(new String[] {"train", "--objective", "mlm", "--out", out.toString(), "--steps", "40",
                "--eval-interval", "20"}, SMALL));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("model: bert, 1 layers, 2 heads, d=16, context 16") && r.out().contains("(word)"), r.out());
        assertTrue(r.out().contains("data: ") && r.out().contains("fill-mask-zh.txt"), r.out());
        assertTrue(r.out().contains("fill-mask on validation lines") && r.out().contains("<mask>"), r.out());
        List<String> log = Files.readAllLines(out.resolve("train-log.jsonl"));
        assertEquals(2, log.size());
        double first = (Double) Json.obj(Json.parse(log.get(0), "l"), "l").get("val_loss"),
                last = (Double) Json.obj(Json.parse(log.get(1), "l"), "l").get("val_loss");
        assertTrue(last < first && last < Math.log(173), "learning: " + first + " → " + last);
        assertEquals("bert", Json.obj(Json.parse(Files.readString(out.resolve("config.json")), "c"), "c").get("model_type"));

        CliTest.Result f = CliTest.run("fill-mask", "--model", out.toString(), "--text", "她 的 鞋子 <mask> 椅子 上", "--top-k", "2");
        assertEquals(0, f.status(), f.err());
        assertTrue(f.out().startsWith("<mask> 1 of 1 (token 4):"), f.out());

        CliTest.Result more = CliTest.run("train", "--objective", "mlm", "--resume", out.toString(), "--steps", "44", "--no-sample");
        assertEquals(0, more.status(), more.err());
        assertTrue(more.out().contains("steps 41–44"), more.out());
        assertEquals(3, Files.readAllLines(out.resolve("train-log.jsonl")).size());

        CliTest.Result again = CliTest.run("train", "--resume", out.toString(), "--steps", "48", "--no-sample"); // the folder says it is mlm
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("steps 45–48"), again.out());
    }

    @Test
    void aCharTokenizerOnShakespeareLines() throws Exception {
        Path c = dir.resolve("lines.txt"), out = dir.resolve("char");
        Files.writeString(c, Files.readString(CliTestData.shakespeare()).substring(0, 20_000));
        CliTest.Result r = CliTest.run(args(new String[] {"train", "--objective", "mlm", "--data", c.toString(), "--out", out.toString(),
                "--steps", "4", "--eval-interval", "4", "--no-sample"}, SMALL));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("(char)"), r.out());
        assertEquals(List.of("<pad>", "<unk>", "<mask>", "<bos>", "<eos>"), TokenizerJson.read(out.resolve("tokenizer.json")).specials().entries()
                .stream().map(SpecialTokens.Entry::text).toList());
    }

    @Test
    void aBpeTokenizerGetsTheSpecialsMaskingNeedsButNoUnk() throws Exception {
        Path c = dir.resolve("lines.txt"), out = dir.resolve("bpe");
        Files.writeString(c, Files.readString(CliTestData.shakespeare()).substring(0, 20_000));
        CliTest.Result r = CliTest.run(args(new String[] {"train", "--objective", "mlm", "--tokenizer", "bpe", "--vocab-size", "300", "--data",
                c.toString(), "--out", out.toString(), "--steps", "2", "--eval-interval", "2"}, SMALL));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("vocabulary 300 (bpe)") && r.out().contains("fill-mask on validation lines"), r.out());
        SpecialTokens s = TokenizerJson.read(out.resolve("tokenizer.json")).specials();
        for (SpecialTokens.Role role : List.of(SpecialTokens.Role.PAD, SpecialTokens.Role.MASK, SpecialTokens.Role.BOS, SpecialTokens.Role.EOS)) {
            assertTrue(s.has(role), role + " in " + s.entries());
        }
        assertTrue(!s.has(SpecialTokens.Role.UNK), "every byte is a token, so no <unk>: " + s.entries());
    }

    @Test
    void badInputIsOneLineAndStatusTwo() throws Exception {
        Path tok = dir.resolve("nomask.json"), out = dir.resolve("x");
        TokenizerJson.write(CharTokenizer.build("abc def\n", List.of(SpecialTokens.Role.PAD)), tok);
        Path c = dir.resolve("c.txt");
        Files.writeString(c, "abc\ndef\nabc def\nfed cba\n".repeat(10));
        CliTest.run("train", "--objective", "mlm", "--data", c.toString(), "--tokenizer", tok.toString(), "--out", out.toString())
                .isOneLineError("the tokenizer has no <mask>");
        CliTest.run("train", "--objective", "mlm", "--data", c.toString(), "--out", out.toString(), "--family", "llama")
                .isOneLineError("--objective mlm trains BERT's shape");
        CliTest.run("train", "--objective", "mlm", "--data", c.toString(), "--out", out.toString(), "--val-data", c.toString())
                .isOneLineError("--objective mlm trains BERT's shape");
        Path one = dir.resolve("one.txt");
        Files.writeString(one, "abc\n");
        CliTest.run("train", "--objective", "mlm", "--data", one.toString(), "--out", out.toString()).isOneLineError("too few to keep a validation part");
        assertTrue(!Files.exists(out), "nothing written by failed runs");
    }

    @Test
    void aForcedRunThatFailsOnItsInputLeavesTheOldModel() throws Exception {
        Path out = dir.resolve("kept");
        CliTest.Result r = CliTest.run(args(new String[] {"train", "--objective", "mlm", "--out", out.toString(), "--steps", "2",
                "--eval-interval", "2", "--no-sample"}, SMALL));
        assertEquals(0, r.status(), r.err());
        byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
        Path one = dir.resolve("one.txt");
        Files.writeString(one, "abc\n");
        CliTest.run("train", "--objective", "mlm", "--data", one.toString(), "--out", out.toString(), "--force")
                .isOneLineError("too few to keep a validation part");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "trainer_state.json")) {
            assertTrue(Files.exists(out.resolve(f)), f + " survives the failed --force run");
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(weights, Files.readAllBytes(out.resolve("model.safetensors")));
    }

    @Test
    void fillMaskExamplesWithFewerThanThreeOrdinaryTokens() throws Exception {
        Path c = Files.writeString(dir.resolve("aa.txt"), "aaaa\n".repeat(30)), out = dir.resolve("aa");
        CliTest.Result r = CliTest.run(args(new String[] {"train", "--objective", "mlm", "--data", c.toString(), "--out", out.toString(),
                "--steps", "2", "--eval-interval", "2"}, SMALL));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("fill-mask on validation lines") && r.out().contains("[a]"), r.out());
    }
}
