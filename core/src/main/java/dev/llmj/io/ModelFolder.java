package dev.llmj.io;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Norm;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model folder as Hugging Face lays it out: {@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}, {@code generation_config.json}. For the gpt2 and llama families the
 * tensors carry Hugging Face's names and shapes (GPT-2's Conv1D weights are stored [in, out] and
 * q, k, v are one {@code c_attn}), so a folder written here loads in {@code transformers} and one
 * from there loads here; the llmj family uses llmj's own parameter names.
 */
public final class ModelFolder {
    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors", TOKENIZER = "tokenizer.json",
            GENERATION = "generation_config.json";

    /** A model with its tokenizer. */
    public record Loaded(DecoderLM model, Tokenizer tokenizer) {}

    private ModelFolder() {}

    /** Whether {@code dir} already holds a model. */
    public static boolean holdsModel(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG)) || Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** Writes the four files, each atomically; the weights first and the config last. */
    public static void save(DecoderLM model, Tokenizer tok, Path dir) {
        int bos = tok.specials().id(SpecialTokens.Role.BOS), eos = tok.specials().id(SpecialTokens.Role.EOS);
        Safetensors.write(dir.resolve(WEIGHTS), tensors(model), Map.of("format", "pt"));
        TokenizerJson.write(tok, dir.resolve(TOKENIZER));
        Map<String, Object> gen = new LinkedHashMap<>();
        if (bos >= 0) gen.put("bos_token_id", bos);
        if (eos >= 0) gen.put("eos_token_id", eos);
        gen.put("max_length", model.config.contextLength());
        AtomicFiles.writeString(dir.resolve(GENERATION), Json.pretty(gen));
        AtomicFiles.writeString(dir.resolve(CONFIG), Json.pretty(model.config.toJson(bos, eos)));
    }

    /** Reads a model folder; every missing or inconsistent file is a clear error naming it. */
    public static Loaded load(Path dir) {
        if (!Files.isDirectory(dir)) throw new LlmjException("model folder " + dir + " does not exist");
        for (String f : List.of(CONFIG, WEIGHTS, TOKENIZER)) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new LlmjException("model folder " + dir + " has no " + f);
        }
        String configText;
        try {
            configText = Files.readString(dir.resolve(CONFIG));
        } catch (java.io.IOException e) {
            throw new LlmjException("cannot read " + dir.resolve(CONFIG) + ": " + AtomicFiles.describe(e));
        }
        ModelConfig config = ModelConfig.fromJson(Json.obj(Json.parse(configText, dir.resolve(CONFIG).toString()), CONFIG),
                dir.resolve(CONFIG).toString()).validate();
        Tokenizer tok = TokenizerJson.read(dir.resolve(TOKENIZER));
        if (tok.vocabSize() > config.vocabSize()) {
            throw new LlmjException(dir + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + config.vocabSize());
        }
        DecoderLM model = new DecoderLM(config, 0);
        Map<String, Safetensors.Tensor> t = Safetensors.read(dir.resolve(WEIGHTS));
        load(model, t, dir.resolve(WEIGHTS).toString());
        return new Loaded(model, tok);
    }

    // ---------------------------------------------------------------- names

    /** The model's tensors under the names and shapes its family uses on disk. */
    public static Map<String, Safetensors.Tensor> tensors(DecoderLM m) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        switch (m.config.family()) {
            case "gpt2" -> {
                put(out, "transformer.wte.weight", m.tokens.weight);
                put(out, "transformer.wpe.weight", m.positions.weight);
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    String p = "transformer.h." + l + ".";
                    putNorm(out, p + "ln_1", b.norm1);
                    Attention a = b.attn;
                    out.put(p + "attn.c_attn.weight", transpose(concatRows(a.q.weight, a.k.weight, a.v.weight))); // [d, 3d]
                    out.put(p + "attn.c_attn.bias", concatVectors(a.q.bias, a.k.bias, a.v.bias));
                    out.put(p + "attn.c_proj.weight", transpose(a.o.weight));
                    put(out, p + "attn.c_proj.bias", a.o.bias);
                    putNorm(out, p + "ln_2", b.norm2);
                    out.put(p + "mlp.c_fc.weight", transpose(b.mlp.fc.weight));
                    put(out, p + "mlp.c_fc.bias", b.mlp.fc.bias);
                    out.put(p + "mlp.c_proj.weight", transpose(b.mlp.proj.weight));
                    put(out, p + "mlp.c_proj.bias", b.mlp.proj.bias);
                }
                putNorm(out, "transformer.ln_f", m.finalNorm);
            }
            case "llama" -> {
                put(out, "model.embed_tokens.weight", m.tokens.weight);
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    String p = "model.layers." + l + ".";
                    putNorm(out, p + "input_layernorm", b.norm1);
                    putLinear(out, p + "self_attn.q_proj", b.attn.q);
                    putLinear(out, p + "self_attn.k_proj", b.attn.k);
                    putLinear(out, p + "self_attn.v_proj", b.attn.v);
                    putLinear(out, p + "self_attn.o_proj", b.attn.o);
                    putNorm(out, p + "post_attention_layernorm", b.norm2);
                    Mlp mlp = b.mlp;
                    putLinear(out, p + "mlp.gate_proj", mlp.fc);
                    putLinear(out, p + "mlp.up_proj", mlp.up);
                    putLinear(out, p + "mlp.down_proj", mlp.proj);
                }
                putNorm(out, "model.norm", m.finalNorm);
                if (!m.config.tiedHead()) put(out, "lm_head.weight", m.head.weight);
            }
            default -> {
                for (Param p : m.params()) put(out, p.name, p);
            }
        }
        return out;
    }

    /** Copies tensors named as {@link #tensors} names them into the model; every one must be there, shaped right. */
    public static void load(DecoderLM m, Map<String, Safetensors.Tensor> t, String what) {
        Map<String, Safetensors.Tensor> expected = tensors(m);
        for (String name : expected.keySet()) {
            Safetensors.Tensor have = t.get(name);
            if (have == null) throw new LlmjException(what + " has no tensor " + name);
            if (!java.util.Arrays.equals(have.shape(), expected.get(name).shape())) {
                throw new LlmjException(what + ": tensor " + name + " has shape " + java.util.Arrays.toString(have.shape())
                        + ", the config says " + java.util.Arrays.toString(expected.get(name).shape()));
            }
        }
        switch (m.config.family()) {
            case "gpt2" -> {
                get(t, "transformer.wte.weight", m.tokens.weight);
                get(t, "transformer.wpe.weight", m.positions.weight);
                int d = m.config.dModel();
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    String p = "transformer.h." + l + ".";
                    getNorm(t, p + "ln_1", b.norm1);
                    float[] qkv = untranspose(t.get(p + "attn.c_attn.weight")); // [3d, d]
                    Attention a = b.attn;
                    System.arraycopy(qkv, 0, a.q.weight.value, 0, d * d);
                    System.arraycopy(qkv, d * d, a.k.weight.value, 0, d * d);
                    System.arraycopy(qkv, 2 * d * d, a.v.weight.value, 0, d * d);
                    float[] qkvBias = t.get(p + "attn.c_attn.bias").data();
                    System.arraycopy(qkvBias, 0, a.q.bias.value, 0, d);
                    System.arraycopy(qkvBias, d, a.k.bias.value, 0, d);
                    System.arraycopy(qkvBias, 2 * d, a.v.bias.value, 0, d);
                    copy(untranspose(t.get(p + "attn.c_proj.weight")), a.o.weight);
                    get(t, p + "attn.c_proj.bias", a.o.bias);
                    getNorm(t, p + "ln_2", b.norm2);
                    copy(untranspose(t.get(p + "mlp.c_fc.weight")), b.mlp.fc.weight);
                    get(t, p + "mlp.c_fc.bias", b.mlp.fc.bias);
                    copy(untranspose(t.get(p + "mlp.c_proj.weight")), b.mlp.proj.weight);
                    get(t, p + "mlp.c_proj.bias", b.mlp.proj.bias);
                }
                getNorm(t, "transformer.ln_f", m.finalNorm);
            }
            case "llama" -> {
                get(t, "model.embed_tokens.weight", m.tokens.weight);
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    String p = "model.layers." + l + ".";
                    getNorm(t, p + "input_layernorm", b.norm1);
                    getLinear(t, p + "self_attn.q_proj", b.attn.q);
                    getLinear(t, p + "self_attn.k_proj", b.attn.k);
                    getLinear(t, p + "self_attn.v_proj", b.attn.v);
                    getLinear(t, p + "self_attn.o_proj", b.attn.o);
                    getNorm(t, p + "post_attention_layernorm", b.norm2);
                    getLinear(t, p + "mlp.gate_proj", b.mlp.fc);
                    getLinear(t, p + "mlp.up_proj", b.mlp.up);
                    getLinear(t, p + "mlp.down_proj", b.mlp.proj);
                }
                getNorm(t, "model.norm", m.finalNorm);
                if (!m.config.tiedHead()) get(t, "lm_head.weight", m.head.weight);
            }
            default -> {
                for (Param p : m.params()) get(t, p.name, p);
            }
        }
    }

    private static void put(Map<String, Safetensors.Tensor> out, String name, Param p) {
        if (p != null) out.put(name, new Safetensors.Tensor(p.shape.clone(), p.value.clone()));
    }

    private static void putLinear(Map<String, Safetensors.Tensor> out, String name, Linear l) {
        put(out, name + ".weight", l.weight);
        put(out, name + ".bias", l.bias);
    }

    private static void putNorm(Map<String, Safetensors.Tensor> out, String name, Norm n) {
        for (Param p : n.params()) put(out, name + (p.name.endsWith(".bias") ? ".bias" : ".weight"), p);
    }

    private static void get(Map<String, Safetensors.Tensor> t, String name, Param p) {
        if (p != null) copy(t.get(name).data(), p);
    }

    private static void getLinear(Map<String, Safetensors.Tensor> t, String name, Linear l) {
        get(t, name + ".weight", l.weight);
        if (l.bias != null) get(t, name + ".bias", l.bias);
    }

    private static void getNorm(Map<String, Safetensors.Tensor> t, String name, Norm n) {
        for (Param p : n.params()) get(t, name + (p.name.endsWith(".bias") ? ".bias" : ".weight"), p);
    }

    private static void copy(float[] src, Param p) {
        System.arraycopy(src, 0, p.value, 0, p.value.length);
    }

    /** [out, in] → [in, out] (Conv1D's layout). */
    private static Safetensors.Tensor transpose(Param p) {
        return transpose(p.value, p.shape[0], p.shape[1]);
    }

    private static Safetensors.Tensor transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return new Safetensors.Tensor(new int[] {cols, rows}, t);
    }

    private static Safetensors.Tensor transpose(Safetensors.Tensor x) {
        return transpose(x.data(), x.shape()[0], x.shape()[1]);
    }

    private static float[] untranspose(Safetensors.Tensor x) {
        return transpose(x).data();
    }

    private static Safetensors.Tensor concatRows(Param... ps) {
        int cols = ps[0].shape[1], rows = 0;
        for (Param p : ps) rows += p.shape[0];
        float[] out = new float[rows * cols];
        int at = 0;
        for (Param p : ps) {
            System.arraycopy(p.value, 0, out, at, p.value.length);
            at += p.value.length;
        }
        return new Safetensors.Tensor(new int[] {rows, cols}, out);
    }

    private static Safetensors.Tensor concatVectors(Param... ps) {
        int n = 0;
        for (Param p : ps) n += p.size();
        float[] out = new float[n];
        int at = 0;
        for (Param p : ps) {
            System.arraycopy(p.value, 0, out, at, p.size());
            at += p.size();
        }
        return new Safetensors.Tensor(new int[] {n}, out);
    }
}
