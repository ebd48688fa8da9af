package dev.llmj.io;

import dev.llmj.LlmjException;
import dev.llmj.model.EncoderConfig;
import dev.llmj.model.EncoderLM;
import dev.llmj.nn.Activation;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EncoderFolderTest {
    @TempDir
    Path dir;

    static final Tokenizer TOK = WordTokenizer.build("猫 在 垫子 上 狗 在 门 外", List.of(SpecialTokens.Role.PAD, SpecialTokens.Role.UNK,
            SpecialTokens.Role.MASK), 100);

    static EncoderLM model(Activation act) {
        EncoderLM m = new EncoderLM(new EncoderConfig(TOK.vocabSize(), 8, 12, 2, 3, 20, act, 2, 0.1f, 1e-12f), 3);
        for (var p : m.params()) if (p.shape.length == 1) for (int i = 0; i < p.size(); i++) p.value()[i] += 0.01f * (i % 7); // not the 1/0 init
        return m;
    }

    @Test
    void roundTripsWithTransformersNamesAndKeys() throws Exception {
        for (Activation act : List.of(Activation.GELU_ERF, Activation.GELU, Activation.RELU)) {
            EncoderLM m = model(act);
            Path d = dir.resolve(act.name());
            EncoderFolder.save(m, TOK, d);
            EncoderLM back = EncoderFolder.load(d).model();
            assertEquals(m.config, back.config);
            int[] ids = TOK.encodeWithSpecials("猫 在 <mask> 上");
            assertArrayEquals(m.forward(ids, null, null, 1, ids.length, false).clone(), back.forward(ids, null, null, 1, ids.length, false));
        }
        Map<String, Safetensors.Tensor> t = Safetensors.read(dir.resolve("GELU_ERF/model.safetensors"));
        assertEquals(3 + 2 + 2 * 16 + 1 + 4, t.size(), "embeddings 3 + LayerNorm 2, 16 per layer, the MLM head's bias, dense and LayerNorm");
        assertArrayEquals(new int[] {20, 12}, t.get("bert.encoder.layer.1.intermediate.dense.weight").shape());
        assertArrayEquals(new int[] {2, 12}, t.get("bert.embeddings.token_type_embeddings.weight").shape());
        assertArrayEquals(new int[] {TOK.vocabSize()}, t.get("cls.predictions.bias").shape());
        assertTrue(t.containsKey("bert.encoder.layer.0.attention.output.LayerNorm.bias") && t.containsKey("cls.predictions.transform.LayerNorm.weight"));
        assertFalse(t.containsKey("cls.predictions.decoder.weight"), "tied to the word embeddings: not written");
        Map<String, Object> cfg = Json.obj(Json.parse(Files.readString(dir.resolve("GELU_ERF/config.json")), "c"), "c");
        assertEquals(List.of("BertForMaskedLM"), cfg.get("architectures"));
        assertEquals("gelu", cfg.get("hidden_act"));
        assertEquals(20L, cfg.get("intermediate_size"));
        assertEquals(8L, cfg.get("max_position_embeddings"));
        assertEquals(1e-12, cfg.get("layer_norm_eps"));
        assertEquals((long) TOK.specials().id(SpecialTokens.Role.PAD), cfg.get("pad_token_id"));
        assertEquals("gelu_new", Json.obj(Json.parse(Files.readString(dir.resolve("GELU/config.json")), "c"), "c").get("hidden_act"));
    }

    @Test
    void acceptsTheTiedDecoderAndOldLayerNormNames() {
        EncoderLM m = model(Activation.GELU_ERF);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        EncoderFolder.tensors(m).forEach((k, v) -> t.put(k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v));
        t.put("cls.predictions.decoder.weight", t.get("bert.embeddings.word_embeddings.weight"));
        t.put("bert.pooler.dense.weight", new Safetensors.Tensor(new int[] {12, 12}, new float[144])); // BertModel's pooler: not used
        EncoderLM back = new EncoderLM(m.config, 99);
        EncoderFolder.load(back, t, "old.safetensors");
        int[] ids = {1, 4, 5};
        assertArrayEquals(m.forward(ids, null, null, 1, 3, false).clone(), back.forward(ids, null, null, 1, 3, false));
    }

    @Test
    void missingOrMisshapenTensorsAreNamed() {
        EncoderLM m = model(Activation.GELU_ERF);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>(EncoderFolder.tensors(m));
        t.remove("bert.encoder.layer.1.attention.self.key.bias");
        assertEquals("x.safetensors has no tensor bert.encoder.layer.1.attention.self.key.bias",
                assertThrows(LlmjException.class, () -> EncoderFolder.load(m, t, "x.safetensors")).getMessage());
        Map<String, Safetensors.Tensor> u = new LinkedHashMap<>(EncoderFolder.tensors(m));
        u.put("bert.embeddings.position_embeddings.weight", new Safetensors.Tensor(new int[] {16, 12}, new float[192]));
        assertTrue(assertThrows(LlmjException.class, () -> EncoderFolder.load(m, u, "x.safetensors")).getMessage()
                .contains("position_embeddings.weight has shape [16, 12], the config says [8, 12]"));
    }

    @Test
    void eachLoaderSaysWhichKindOfFolderItNeeds() {
        Path bert = dir.resolve("bert");
        EncoderFolder.save(model(Activation.GELU_ERF), TOK, bert);
        assertTrue(EncoderFolder.isEncoder(bert));
        String msg = assertThrows(LlmjException.class, () -> ModelFolder.load(bert)).getMessage();
        assertTrue(msg.contains("model_type bert is an encoder") && msg.contains("fill-mask"), msg);

        Path gpt = dir.resolve("gpt");
        ModelFolder.save(new dev.llmj.model.DecoderLM(dev.llmj.model.ModelConfig.gpt2(TOK.vocabSize(), 8, 12, 1, 3, 0f), 1), TOK, gpt);
        assertFalse(EncoderFolder.isEncoder(gpt));
        msg = assertThrows(LlmjException.class, () -> EncoderFolder.load(gpt)).getMessage();
        assertTrue(msg.contains("holds a decoder (model_type gpt2), not an encoder"), msg);
    }

    /**
     * A bert folder written by llmj (a tiny model after 150 MLM steps on the bundled corpus, in
     * fixtures/bert-mlm) against BertForMaskedLM's forward written out in torch from the same file
     * under transformers' names: {@code tools/pytorch_reference.py bert-check fixtures/bert-mlm IDS},
     * whose output is fixtures/bert-mlm/expected-logits.json.
     */
    @Test
    void matchesBertForMaskedLMWrittenOut() throws Exception {
        Path f = Path.of(EncoderFolderTest.class.getResource("/fixtures/bert-mlm").toURI());
        Map<String, Object> want = Json.obj(Json.parse(Files.readString(f.resolve("expected-logits.json")), "expected"), "expected");
        List<Object> idList = Json.arr(want.get("ids"), "ids"), rows = Json.arr(want.get("logits"), "logits");
        int[] ids = idList.stream().mapToInt(o -> (int) Json.num(o, "id")).toArray();
        EncoderLM m = EncoderFolder.load(f).model();
        float[] logits = m.forward(ids, null, null, 1, ids.length, false);
        int vocab = m.config.vocabSize();
        assertEquals(ids.length, rows.size());
        for (int t = 0; t < ids.length; t++) {
            List<Object> row = Json.arr(rows.get(t), "row");
            assertEquals(vocab, row.size());
            for (int v = 0; v < vocab; v++) {
                assertEquals(((Number) row.get(v)).doubleValue(), logits[t * vocab + v], 2e-4, "position " + t + " token " + v);
            }
        }
    }
}
