package dev.llmj.cli;

import dev.llmj.io.EncoderFolder;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.EncoderConfig;
import dev.llmj.model.EncoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llmj fill-mask and llmj embed as a user runs them, on a small random-weight encoder. */
class EncoderCliTest {
    @TempDir
    static Path shared;

    static Path model, decoder, noMask;
    static Tokenizer tok;

    @BeforeAll
    static void saveModels() {
        String corpus = "猫 在 垫子 上\n狗 在 门 外\n鸟 在 树 上\n";
        tok = WordTokenizer.build(corpus, List.of(SpecialTokens.Role.PAD, SpecialTokens.Role.MASK, SpecialTokens.Role.BOS,
                SpecialTokens.Role.EOS), 0);
        EncoderLM m = new EncoderLM(EncoderConfig.bert(tok.vocabSize(), 8, 16, 2, 2, 0.1f), 7);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 30f; // not near-uniform
        model = shared.resolve("bert");
        EncoderFolder.save(m, tok, model);
        Tokenizer plain = WordTokenizer.build(corpus, List.of(SpecialTokens.Role.PAD), 0);
        noMask = shared.resolve("nomask");
        EncoderFolder.save(new EncoderLM(EncoderConfig.bert(plain.vocabSize(), 8, 16, 1, 2, 0f), 1), plain, noMask);
        decoder = shared.resolve("gpt");
        ModelFolder.save(new DecoderLM(ModelConfig.gpt2(tok.vocabSize(), 8, 16, 1, 2, 0f), 1), tok, decoder);
    }

    @Test
    void fillMaskListsTheTopCandidatesOfEachMask() {
        CliTest.Result r = CliTest.run("fill-mask", "--model", model.toString(), "--text", "猫 在 <mask> <mask>", "--top-k", "3", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> j = Json.obj(Json.parse(r.out(), "out"), "out");
        List<Object> masks = Json.arr(j.get("masks"), "masks");
        assertEquals(2, masks.size());
        for (Object mo : masks) {
            Map<String, Object> mask = Json.obj(mo, "mask");
            List<Object> cands = Json.arr(mask.get("candidates"), "c");
            assertEquals(3, cands.size());
            double prev = 1, sum = 0;
            for (Object c : cands) {
                Map<String, Object> cm = Json.obj(c, "c");
                double p = ((Number) cm.get("probability")).doubleValue();
                assertTrue(p <= prev && p > 0, "sorted, positive: " + r.out());
                prev = p;
                sum += p;
                int id = (int) Json.num(cm.get("id"), "id");
                assertTrue(!tok.specials().isSpecial(id), "no special token proposed");
                assertEquals(FillMaskCommand.shown(tok, id), cm.get("token"));
            }
            assertTrue(sum <= 1 + 1e-9);
        }
        assertEquals(3L, Json.obj(masks.get(0), "m").get("position"), "<bos> 猫 在 <mask>: the first mask is token 3");
        CliTest.Result text = CliTest.run("fill-mask", "--model", model.toString(), "--text", "猫 在 <mask> 上");
        assertEquals(0, text.status(), text.err());
        assertTrue(text.out().startsWith("<mask> 1 of 1 (token 3):"), text.out());
        assertEquals(6, text.out().strip().lines().count(), text.out());
    }

    @Test
    void embedPrintsAVectorAndTheCosine() {
        CliTest.Result r = CliTest.run("embed", "--model", model.toString(), "--text", "猫 在 垫子 上", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> j = Json.obj(Json.parse(r.out(), "out"), "out");
        assertEquals(16, Json.arr(j.get("embedding"), "e").size());
        assertEquals(6L, j.get("tokens"), "the 4 words between <bos> and <eos>");
        CliTest.Result same = CliTest.run("embed", "--model", model.toString(), "--similarity", "猫 在 垫子 上", "猫 在 垫子 上", "--json");
        assertEquals(1.0, ((Number) Json.obj(Json.parse(same.out(), "o"), "o").get("cosine")).doubleValue(), 1e-6);
        CliTest.Result diff = CliTest.run("embed", "--model", model.toString(), "--similarity", "猫 在 垫子 上", "狗 在 门 外", "--pooling", "first");
        assertEquals(0, diff.status(), diff.err());
        assertTrue(diff.out().matches("cosine -?[01]\\.\\d{4} \\(first pooling\\)\\s*"), diff.out());
        CliTest.Result plain = CliTest.run("embed", "--model", model.toString(), "--text", "鸟");
        assertTrue(plain.out().startsWith("16 dimensions, mean pooling over 3 tokens:"), plain.out());
    }

    @Test
    void badInputIsOneLineAndStatusTwo() {
        CliTest.run("fill-mask", "--model", model.toString(), "--text", "猫 在 垫子 上").isOneLineError("the text has no <mask>");
        CliTest.run("embed", "--model", model.toString(), "--similarity", "猫", "狗", "--similarity", "上", "在").isOneLineError("--similarity takes exactly two texts");
        CliTest.run("fill-mask", "--model", model.toString(), "--text", "猫 在 <mask> 上 狗 在 门").isOneLineError("longer than the model's context of 8");
        CliTest.run("fill-mask", "--model", model.toString(), "--text", "猫 在 <mask> 汽车").isOneLineError("汽车");
        CliTest.run("fill-mask", "--model", decoder.toString(), "--text", "猫 <mask>").isOneLineError("not an encoder");
        CliTest.run("fill-mask", "--model", noMask.toString(), "--text", "猫 <mask>").isOneLineError("no <mask> token");
        CliTest.run("embed", "--model", model.toString(), "--text", "猫", "--pooling", "max").isOneLineError("--pooling");
        CliTest.run("embed", "--model", shared.resolve("none").toString(), "--text", "猫").isOneLineError("does not exist");
        CliTest.run("generate", "--model", model.toString(), "--prompt", "猫").isOneLineError("is an encoder");
    }
}
