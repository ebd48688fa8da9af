package dev.llmj.io;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.Linear;
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
        save(model, tok, dir, Map.of());
    }

    /** As {@link #save(DecoderLM, Tokenizer, Path)}, with extra string metadata in the safetensors header. */
    public static void save(DecoderLM model, Tokenizer tok, Path dir, Map<String, String> metadata) {
        int bos = tok.specials().id(SpecialTokens.Role.BOS), eos = tok.specials().id(SpecialTokens.Role.EOS);
        Map<String, String> md = new LinkedHashMap<>(Map.of("format", "pt"));
        md.putAll(metadata);
        Safetensors.write(dir.resolve(WEIGHTS), tensors(model), md);
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
        DecoderLM model = DecoderLM.toLoad(config);
        load(model, dir.resolve(WEIGHTS));
        return new Loaded(model, tok);
    }

    // ---------------------------------------------------------------- names

    /**
     * One tensor on disk: llmj parameters stacked by rows (q, k, v into GPT-2's c_attn), and
     * stored transposed when the family keeps [in, out] (GPT-2's Conv1D).
     */
    private record Binding(List<Param> parts, boolean transposed) {
        static Binding of(Param p) {
            return new Binding(List.of(p), false);
        }

        static Binding conv1d(Param... ps) {
            return new Binding(List.of(ps), true);
        }

        int[] shape() {
            int[] first = parts.get(0).shape;
            int rows = 0;
            for (Param p : parts) rows += p.shape[0];
            if (first.length == 1) return new int[] {rows};
            return transposed ? new int[] {first[1], rows} : new int[] {rows, first[1]};
        }
    }

    /** The on-disk name of every tensor of the model's family, in file order. */
    private static Map<String, Binding> bindings(DecoderLM m) {
        Map<String, Binding> out = new LinkedHashMap<>();
        switch (m.config.family()) {
            case "gpt2" -> {
                out.put("transformer.wte.weight", Binding.of(m.tokens.weight));
                out.put("transformer.wpe.weight", Binding.of(m.positions.weight));
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    Attention a = b.attn;
                    String p = "transformer.h." + l + ".";
                    norm(out, p + "ln_1", b.norm1);
                    out.put(p + "attn.c_attn.weight", Binding.conv1d(a.q.weight, a.k.weight, a.v.weight)); // [d, 3d]
                    out.put(p + "attn.c_attn.bias", new Binding(List.of(a.q.bias, a.k.bias, a.v.bias), false));
                    out.put(p + "attn.c_proj.weight", Binding.conv1d(a.o.weight));
                    out.put(p + "attn.c_proj.bias", Binding.of(a.o.bias));
                    norm(out, p + "ln_2", b.norm2);
                    out.put(p + "mlp.c_fc.weight", Binding.conv1d(b.mlp.fc.weight));
                    out.put(p + "mlp.c_fc.bias", Binding.of(b.mlp.fc.bias));
                    out.put(p + "mlp.c_proj.weight", Binding.conv1d(b.mlp.proj.weight));
                    out.put(p + "mlp.c_proj.bias", Binding.of(b.mlp.proj.bias));
                }
                norm(out, "transformer.ln_f", m.finalNorm);
            }
            case "llama" -> {
                out.put("model.embed_tokens.weight", Binding.of(m.tokens.weight));
                for (int l = 0; l < m.blocks.size(); l++) {
                    Block b = m.blocks.get(l);
                    String p = "model.layers." + l + ".";
                    norm(out, p + "input_layernorm", b.norm1);
                    linear(out, p + "self_attn.q_proj", b.attn.q);
                    linear(out, p + "self_attn.k_proj", b.attn.k);
                    linear(out, p + "self_attn.v_proj", b.attn.v);
                    linear(out, p + "self_attn.o_proj", b.attn.o);
                    norm(out, p + "post_attention_layernorm", b.norm2);
                    linear(out, p + "mlp.gate_proj", b.mlp.fc);
                    linear(out, p + "mlp.up_proj", b.mlp.up);
                    linear(out, p + "mlp.down_proj", b.mlp.proj);
                }
                norm(out, "model.norm", m.finalNorm);
                if (!m.config.tiedHead()) out.put("lm_head.weight", Binding.of(m.head.weight));
            }
            default -> {
                for (Param p : m.params()) out.put(p.name, Binding.of(p));
            }
        }
        return out;
    }

    private static void linear(Map<String, Binding> out, String name, Linear l) {
        out.put(name + ".weight", Binding.of(l.weight));
        if (l.bias != null) out.put(name + ".bias", Binding.of(l.bias));
    }

    private static void norm(Map<String, Binding> out, String name, Norm n) {
        for (Param p : n.params()) out.put(name + (p.name.endsWith(".bias") ? ".bias" : ".weight"), Binding.of(p));
    }

    /** The model's tensors under the names and shapes its family uses on disk. */
    public static Map<String, Safetensors.Tensor> tensors(DecoderLM m) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Binding> e : bindings(m).entrySet()) {
            Binding b = e.getValue();
            int[] shape = b.shape();
            float[] stacked = new float[shape.length == 1 ? shape[0] : shape[0] * shape[1]];
            int at = 0;
            for (Param p : b.parts()) {
                System.arraycopy(p.value(), 0, stacked, at, p.size());
                at += p.size();
            }
            // stacked is [rows, cols] row-major; a Conv1D tensor is its transpose
            out.put(e.getKey(), new Safetensors.Tensor(shape, b.transposed() ? transposed(stacked, shape[1], shape[0]) : stacked));
        }
        return out;
    }

    /**
     * Copies the tensors of {@code file}, named as {@link #tensors} names them, into the model, one
     * at a time as they are read: a tensor stored as the model holds it is read straight into its
     * parameter, one stored stacked or transposed (GPT-2's c_attn, its Conv1D layout) through one
     * array of its size, so the weights never exist twice in memory. Every one must be there, shaped
     * right; tensors the model has no use for are skipped.
     */
    public static void load(DecoderLM m, Path file) {
        Map<String, Binding> bindings = bindings(m);
        java.util.Set<String> missing = new java.util.LinkedHashSet<>(bindings.keySet());
        // the original GPT-2 files drop the "transformer." prefix
        java.util.function.Function<String, String> keyOf = name -> bindings.containsKey(name) ? name
                : bindings.containsKey("transformer." + name) ? "transformer." + name : null;
        java.util.function.Function<String, float[]> into = name -> { // one parameter as stored: read into it in place
            Binding b = keyOf.apply(name) == null ? null : bindings.get(keyOf.apply(name));
            return b != null && b.parts().size() == 1 && !b.transposed() ? b.parts().get(0).value() : null;
        };
        Safetensors.read(file, into, (name, have) -> {
            String key = keyOf.apply(name);
            if (key == null) return;
            Binding b = bindings.get(key);
            if (!java.util.Arrays.equals(have.shape(), b.shape())) {
                throw new LlmjException(file + ": tensor " + key + " has shape " + java.util.Arrays.toString(have.shape())
                        + ", the config says " + java.util.Arrays.toString(b.shape()));
            }
            float[] stacked = b.transposed() ? transposed(have.data(), have.shape()[0], have.shape()[1]) : have.data();
            int at = 0;
            for (Param p : b.parts()) {
                if (stacked != p.value()) System.arraycopy(stacked, at, p.value(), 0, p.size());
                at += p.size();
            }
            missing.remove(key);
        });
        if (!missing.isEmpty()) throw new LlmjException(file + " has no tensor " + missing.iterator().next());
    }

    /** [rows, cols] → [cols, rows]. */
    private static float[] transposed(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }
}
