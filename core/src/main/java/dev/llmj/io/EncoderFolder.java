package dev.llmj.io;

import dev.llmj.LlmjException;
import dev.llmj.model.EncoderConfig;
import dev.llmj.model.EncoderLM;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An encoder's model folder in Hugging Face's {@code bert} layout ({@code BertForMaskedLM}):
 * {@code config.json}, {@code model.safetensors} with transformers' tensor names, {@code tokenizer.json}.
 * The MLM decoder's weight is the word embedding, so {@code cls.predictions.decoder.weight} is not
 * written (as save_pretrained drops tied duplicates) and is accepted on load; so are the pre-2019
 * LayerNorm names {@code gamma} and {@code beta}, and tensors this model does not use (a pooler,
 * the next-sentence head) are ignored.
 */
public final class EncoderFolder {
    /** An encoder with its tokenizer. */
    public record Loaded(EncoderLM model, Tokenizer tokenizer) {}

    private EncoderFolder() {}

    /** Whether {@code dir}'s config.json says it holds a bert encoder. */
    public static boolean isEncoder(Path dir) {
        Path f = dir.resolve(ModelFolder.CONFIG);
        if (!Files.isRegularFile(f)) return false;
        try {
            return Json.parse(Files.readString(f), f.toString()) instanceof Map<?, ?> m && "bert".equals(m.get("model_type"));
        } catch (java.io.IOException | LlmjException e) {
            return false;
        }
    }

    /** Writes config.json, model.safetensors and tokenizer.json, each atomically; the config last. */
    public static void save(EncoderLM model, Tokenizer tok, Path dir) {
        save(model, tok, dir, Map.of());
    }

    /** As {@link #save(EncoderLM, Tokenizer, Path)}, with extra string metadata in the safetensors header. */
    public static void save(EncoderLM model, Tokenizer tok, Path dir, Map<String, String> metadata) {
        Map<String, String> md = new LinkedHashMap<>(Map.of("format", "pt"));
        md.putAll(metadata);
        Safetensors.write(dir.resolve(ModelFolder.WEIGHTS), tensors(model), md);
        TokenizerJson.write(tok, dir.resolve(ModelFolder.TOKENIZER));
        AtomicFiles.writeString(dir.resolve(ModelFolder.CONFIG), Json.pretty(model.config.toJson(tok.specials().id(SpecialTokens.Role.PAD))));
    }

    /** Reads an encoder folder; every missing or inconsistent file is a clear error naming it. */
    public static Loaded load(Path dir) {
        if (!Files.isDirectory(dir)) throw new LlmjException("model folder " + dir + " does not exist");
        for (String f : List.of(ModelFolder.CONFIG, ModelFolder.WEIGHTS, ModelFolder.TOKENIZER)) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new LlmjException("model folder " + dir + " has no " + f);
        }
        Path cf = dir.resolve(ModelFolder.CONFIG);
        Map<String, Object> json;
        try {
            json = Json.obj(Json.parse(Files.readString(cf), cf.toString()), cf.toString());
        } catch (java.io.IOException e) {
            throw new LlmjException("cannot read " + cf + ": " + AtomicFiles.describe(e));
        }
        if (!"bert".equals(json.get("model_type"))) {
            boolean seq2seq = dev.llmj.model.Seq2SeqConfig.MODEL_TYPE.equals(json.get("model_type"));
            throw new LlmjException(dir + " holds " + (seq2seq ? "an encoder–decoder" : "a decoder") + " (model_type " + json.get("model_type")
                    + "), not an encoder: fill-mask and embed take a bert folder (llmj train --objective mlm); use llmj "
                    + (seq2seq ? "translate" : "generate") + " for this one");
        }
        EncoderConfig config = EncoderConfig.fromJson(json, cf.toString()).validate();
        Tokenizer tok = TokenizerJson.read(dir.resolve(ModelFolder.TOKENIZER));
        if (tok.vocabSize() > config.vocabSize()) {
            throw new LlmjException(dir + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + config.vocabSize());
        }
        EncoderLM model = new EncoderLM(config, 0);
        load(model, Safetensors.read(dir.resolve(ModelFolder.WEIGHTS)), dir.resolve(ModelFolder.WEIGHTS).toString());
        return new Loaded(model, tok);
    }

    /** transformers' name of every parameter, in file order. */
    static Map<String, Param> names(EncoderLM m) {
        Map<String, Param> out = new LinkedHashMap<>();
        String e = "bert.embeddings.";
        out.put(e + "word_embeddings.weight", m.tokens.weight);
        out.put(e + "position_embeddings.weight", m.positions.weight);
        out.put(e + "token_type_embeddings.weight", m.segments.weight);
        norm(out, e + "LayerNorm", m.embedNorm);
        for (int l = 0; l < m.blocks.size(); l++) {
            Block b = m.blocks.get(l);
            Attention a = b.attn;
            String p = "bert.encoder.layer." + l + ".";
            linear(out, p + "attention.self.query", a.q);
            linear(out, p + "attention.self.key", a.k);
            linear(out, p + "attention.self.value", a.v);
            linear(out, p + "attention.output.dense", a.o);
            norm(out, p + "attention.output.LayerNorm", (LayerNorm) b.norm1);   // post-norm: after the attention's residual add
            linear(out, p + "intermediate.dense", b.mlp.fc);
            linear(out, p + "output.dense", b.mlp.proj);
            norm(out, p + "output.LayerNorm", (LayerNorm) b.norm2);             // after the MLP's residual add
        }
        out.put("cls.predictions.bias", m.decoderBias);
        linear(out, "cls.predictions.transform.dense", m.transform);
        norm(out, "cls.predictions.transform.LayerNorm", m.transformNorm);
        return out;
    }

    private static void linear(Map<String, Param> out, String name, Linear l) {
        out.put(name + ".weight", l.weight);
        out.put(name + ".bias", l.bias);
    }

    private static void norm(Map<String, Param> out, String name, LayerNorm n) {
        out.put(name + ".weight", n.weight);
        out.put(name + ".bias", n.bias);
    }

    /** The model's tensors under transformers' names (PyTorch's [out, in] weights, as llmj's). */
    public static Map<String, Safetensors.Tensor> tensors(EncoderLM m) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Param> e : names(m).entrySet()) out.put(e.getKey(), new Safetensors.Tensor(e.getValue().shape, e.getValue().value()));
        return out;
    }

    /** Copies tensors named as {@link #tensors} names them into the model; every one must be there, shaped right. */
    public static void load(EncoderLM m, Map<String, Safetensors.Tensor> t, String what) {
        for (Map.Entry<String, Param> e : names(m).entrySet()) {
            String name = e.getKey();
            Param p = e.getValue();
            Safetensors.Tensor have = t.get(name);
            if (have == null && name.endsWith("LayerNorm.weight")) have = t.get(name.replace("LayerNorm.weight", "LayerNorm.gamma"));
            if (have == null && name.endsWith("LayerNorm.bias")) have = t.get(name.replace("LayerNorm.bias", "LayerNorm.beta"));
            if (have == null && name.equals("cls.predictions.bias")) have = t.get("cls.predictions.decoder.bias");
            if (have == null) throw new LlmjException(what + " has no tensor " + name);
            if (!Arrays.equals(have.shape(), p.shape)) {
                throw new LlmjException(what + ": tensor " + name + " has shape " + Arrays.toString(have.shape()) + ", the config says " + Arrays.toString(p.shape));
            }
            System.arraycopy(have.data(), 0, p.value(), 0, p.size());
        }
        Safetensors.Tensor dec = t.get("cls.predictions.decoder.weight");
        if (dec != null && !Arrays.equals(dec.shape(), m.tokens.weight.shape)) {
            throw new LlmjException(what + ": tensor cls.predictions.decoder.weight has shape " + Arrays.toString(dec.shape())
                    + ", but it is tied to the word embeddings " + Arrays.toString(m.tokens.weight.shape));
        }
    }
}
