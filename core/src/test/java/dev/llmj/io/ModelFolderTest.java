package dev.llmj.io;

import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.LlmjException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFolderTest {
    @TempDir
    Path dir;

    static final Tokenizer TOK = CharTokenizer.build("abcdefghij klmnop\n", List.of(SpecialTokens.Role.EOS));

    private void roundTrip(ModelConfig c) {
        DecoderLM m = new DecoderLM(c, 3);
        Path d = dir.resolve(c.family() + "-" + c.activation());
        ModelFolder.save(m, TOK, d);
        DecoderLM back = ModelFolder.load(d).model();
        assertEquals(c, back.config);
        int[] ids = TOK.encode("abc def");
        assertArrayEquals(m.forward(ids, 1, ids.length, false).clone(), back.forward(ids, 1, ids.length, false));
    }

    @Test
    void everyFamilyRoundTrips() {
        roundTrip(ModelConfig.gpt2(TOK.vocabSize(), 16, 12, 2, 3, 0f));
        ModelConfig erf = ModelConfig.gpt2(TOK.vocabSize(), 16, 12, 2, 3, 0f);   // GPT-2 with activation_function "gelu"
        roundTrip(new ModelConfig("gpt2", erf.vocabSize(), 16, 12, 2, 3, 3, 48, erf.position(), erf.norm(), dev.llmj.nn.Activation.GELU_ERF,
                true, true, 0f, 1e-5f, 10000f));
        roundTrip(ModelConfig.llama(TOK.vocabSize(), 16, 16, 2, 4, 2, 24));
        roundTrip(new ModelConfig("llmj", TOK.vocabSize(), 16, 12, 1, 2, 2, 20, ModelConfig.Position.SINUSOIDAL, "layernorm",
                dev.llmj.nn.Activation.RELU, true, false, 0f, 1e-5f, 10000f));
    }

    @Test
    void gpt2AndLlamaUseHuggingFacesNamesShapesAndKeys() throws Exception {
        DecoderLM g = new DecoderLM(ModelConfig.gpt2(TOK.vocabSize(), 16, 12, 2, 3, 0f), 1);
        Map<String, Safetensors.Tensor> t = ModelFolder.tensors(g);
        assertArrayEquals(new int[] {12, 36}, t.get("transformer.h.0.attn.c_attn.weight").shape(), "Conv1D [in, 3·out]");
        assertArrayEquals(new int[] {12, 48}, t.get("transformer.h.1.mlp.c_fc.weight").shape());
        assertTrue(t.containsKey("transformer.ln_f.bias") && !t.containsKey("lm_head.weight"), "tied head: no lm_head");
        // c_attn = [q | k | v] transposed: column j < d of row i is q.weight[j][i]
        assertEquals(g.blocks.get(0).attn.q.weight.value()[5 * 12 + 2], t.get("transformer.h.0.attn.c_attn.weight").data()[2 * 36 + 5]);
        assertEquals(g.blocks.get(0).attn.k.weight.value()[1 * 12 + 3], t.get("transformer.h.0.attn.c_attn.weight").data()[3 * 36 + 12 + 1]);

        DecoderLM l = new DecoderLM(ModelConfig.llama(TOK.vocabSize(), 16, 16, 1, 4, 2, 24), 1);
        Set<String> names = ModelFolder.tensors(l).keySet();
        assertEquals(Set.of("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                "model.layers.0.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight"), names);
        ModelFolder.save(l, TOK, dir.resolve("l"));
        Map<String, Object> cfg = Json.obj(Json.parse(Files.readString(dir.resolve("l/config.json")), "c"), "c");
        assertEquals(List.of("LlamaForCausalLM"), cfg.get("architectures"));
        assertEquals(2L, cfg.get("num_key_value_heads"));
        assertEquals(24L, cfg.get("intermediate_size"));
    }

    @Test
    void missingOrBrokenFilesAreNamed() throws Exception {
        DecoderLM m = new DecoderLM(ModelConfig.gpt2(TOK.vocabSize(), 16, 12, 1, 3, 0f), 1);
        Path d = dir.resolve("m");
        ModelFolder.save(m, TOK, d);
        Files.delete(d.resolve("tokenizer.json"));
        assertTrue(assertThrows(LlmjException.class, () -> ModelFolder.load(d)).getMessage().contains("has no tokenizer.json"));
        ModelFolder.save(m, TOK, d);
        Files.write(d.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertTrue(assertThrows(LlmjException.class, () -> ModelFolder.load(d)).getMessage().contains("model.safetensors"));
        assertTrue(assertThrows(LlmjException.class, () -> ModelFolder.load(dir.resolve("none"))).getMessage().contains("does not exist"));
        // tensors the model has no use for (GPT-2 files carry attention-mask buffers) are skipped; a missing one is named
        Map<String, Safetensors.Tensor> t = new java.util.LinkedHashMap<>(ModelFolder.tensors(m));
        t.put("transformer.h.0.attn.bias", new Safetensors.Tensor(new int[] {2, 2}, new float[] {1, 0, 1, 1}));
        ModelFolder.save(m, TOK, d);
        Safetensors.write(d.resolve("model.safetensors"), t, null);
        int[] ids = TOK.encode("abc");
        assertArrayEquals(m.forward(ids, 1, ids.length, false).clone(), ModelFolder.load(d).model().forward(ids, 1, ids.length, false));
        t.remove("transformer.ln_f.weight");
        Safetensors.write(d.resolve("model.safetensors"), t, null);
        assertTrue(assertThrows(LlmjException.class, () -> ModelFolder.load(d)).getMessage().endsWith("has no tensor transformer.ln_f.weight"));
    }
}
