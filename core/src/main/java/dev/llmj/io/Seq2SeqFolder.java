package dev.llmj.io;

import dev.llmj.LlmjException;
import dev.llmj.model.Seq2SeqConfig;
import dev.llmj.model.Seq2SeqLM;
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
import java.util.function.Function;

/**
 * An encoder–decoder's model folder: {@code config.json} ({@code "model_type": "llmj-seq2seq"}),
 * {@code model.safetensors}, {@code tokenizer.json}, {@code generation_config.json}. The tensors
 * carry torch.nn.Transformer's names (q, k and v stacked into {@code in_proj_weight}, PyTorch's
 * norm2 the decoder's cross-attention norm and norm3 its MLP norm), beside {@code embedding.weight}
 * and {@code generator.*}, so a folder loads into the Annotated-Transformer wrapper of PyTorch's
 * module (tools/pytorch_reference.py's Seq2Seq) by name.
 */
public final class Seq2SeqFolder {
    /** A model with its tokenizer. */
    public record Loaded(Seq2SeqLM model, Tokenizer tokenizer) {}

    private Seq2SeqFolder() {}

    /** Whether {@code dir}'s config.json says it holds an encoder–decoder. */
    public static boolean holdsSeq2Seq(Path dir) {
        Path config = dir.resolve(ModelFolder.CONFIG);
        if (!Files.isRegularFile(config)) return false;
        try {
            return Json.parse(Files.readString(config), config.toString()) instanceof Map<?, ?> m && Seq2SeqConfig.MODEL_TYPE.equals(m.get("model_type"));
        } catch (java.io.IOException | LlmjException e) {
            return false;
        }
    }

    /** Writes the four files, each atomically; the weights first and the config last. */
    public static void save(Seq2SeqLM model, Tokenizer tok, Path dir, Map<String, String> metadata) {
        SpecialTokens s = tok.specials();
        int pad = s.id(SpecialTokens.Role.PAD), bos = s.id(SpecialTokens.Role.BOS), eos = s.id(SpecialTokens.Role.EOS);
        Map<String, String> md = new LinkedHashMap<>(Map.of("format", "pt"));
        md.putAll(metadata);
        Safetensors.write(dir.resolve(ModelFolder.WEIGHTS), tensors(model, p -> p.value()), md);
        TokenizerJson.write(tok, dir.resolve(ModelFolder.TOKENIZER));
        Map<String, Object> gen = new LinkedHashMap<>();
        if (bos >= 0) gen.put("decoder_start_token_id", bos);
        if (eos >= 0) gen.put("eos_token_id", eos);
        if (pad >= 0) gen.put("pad_token_id", pad);
        gen.put("max_length", model.config.contextLength());
        AtomicFiles.writeString(dir.resolve(ModelFolder.GENERATION), Json.pretty(gen));
        AtomicFiles.writeString(dir.resolve(ModelFolder.CONFIG), Json.pretty(model.config.toJson(pad, bos, eos)));
    }

    /** Reads an encoder–decoder folder; a decoder-only one, or any missing or inconsistent file, is a clear error. */
    public static Loaded load(Path dir) {
        if (!Files.isDirectory(dir)) throw new LlmjException("model folder " + dir + " does not exist");
        for (String f : List.of(ModelFolder.CONFIG, ModelFolder.WEIGHTS, ModelFolder.TOKENIZER)) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new LlmjException("model folder " + dir + " has no " + f);
        }
        Path cfg = dir.resolve(ModelFolder.CONFIG);
        Map<String, Object> json;
        try {
            json = Json.obj(Json.parse(Files.readString(cfg), cfg.toString()), ModelFolder.CONFIG);
        } catch (java.io.IOException e) {
            throw new LlmjException("cannot read " + cfg + ": " + AtomicFiles.describe(e));
        }
        if (!Seq2SeqConfig.MODEL_TYPE.equals(json.get("model_type"))) {
            throw new LlmjException(dir + " holds a " + json.get("model_type") + " model, not an encoder–decoder (" + Seq2SeqConfig.MODEL_TYPE
                    + "); train one with llmj train --objective seq2seq");
        }
        Seq2SeqConfig config = Seq2SeqConfig.fromJson(json, cfg.toString()).validate();
        Tokenizer tok = TokenizerJson.read(dir.resolve(ModelFolder.TOKENIZER));
        if (tok.vocabSize() > config.vocabSize()) {
            throw new LlmjException(dir + ": the tokenizer has " + tok.vocabSize() + " tokens but the model only " + config.vocabSize());
        }
        for (SpecialTokens.Role r : List.of(SpecialTokens.Role.BOS, SpecialTokens.Role.EOS)) {
            if (!tok.specials().has(r)) throw new LlmjException(dir + ": the tokenizer has no " + r.defaultText + " token, which decoding needs");
        }
        Seq2SeqLM model = new Seq2SeqLM(config, 0);
        load(model, Safetensors.read(dir.resolve(ModelFolder.WEIGHTS)), dir.resolve(ModelFolder.WEIGHTS).toString());
        return new Loaded(model, tok);
    }

    /** Each on-disk tensor: the llmj parameters stacked by rows (q, k, v into in_proj) in that order. */
    static Map<String, List<Param>> bindings(Seq2SeqLM m) {
        Map<String, List<Param>> out = new LinkedHashMap<>();
        out.put("embedding.weight", List.of(m.embedding));
        if (m.positions != null) out.put("positions.weight", List.of(m.positions));
        for (int l = 0; l < m.encoder.size(); l++) {
            Block b = m.encoder.get(l);
            String p = "encoder.layers." + l + ".";
            attention(out, p + "self_attn", b.attn);
            mlp(out, p, b);
            norm(out, p + "norm1", b.norm1);
            norm(out, p + "norm2", b.norm2);
        }
        norm(out, "encoder.norm", m.encoderNorm);
        for (int l = 0; l < m.decoder.size(); l++) {
            Block b = m.decoder.get(l);
            String p = "decoder.layers." + l + ".";
            attention(out, p + "self_attn", b.attn);
            attention(out, p + "multihead_attn", b.cross);
            mlp(out, p, b);
            norm(out, p + "norm1", b.norm1);
            norm(out, p + "norm2", b.crossNorm);
            norm(out, p + "norm3", b.norm2);
        }
        norm(out, "decoder.norm", m.decoderNorm);
        linear(out, "generator", m.generator);
        return out;
    }

    private static void attention(Map<String, List<Param>> out, String name, Attention a) {
        out.put(name + ".in_proj_weight", List.of(a.q.weight, a.k.weight, a.v.weight)); // [3d, d]
        out.put(name + ".in_proj_bias", List.of(a.q.bias, a.k.bias, a.v.bias));
        linear(out, name + ".out_proj", a.o);
    }

    private static void mlp(Map<String, List<Param>> out, String prefix, Block b) {
        linear(out, prefix + "linear1", b.mlp.fc);
        linear(out, prefix + "linear2", b.mlp.proj);
    }

    private static void linear(Map<String, List<Param>> out, String name, Linear l) {
        out.put(name + ".weight", List.of(l.weight));
        out.put(name + ".bias", List.of(l.bias));
    }

    private static void norm(Map<String, List<Param>> out, String name, Norm n) {
        for (Param p : n.params()) out.put(name + (p.name.endsWith(".bias") ? ".bias" : ".weight"), List.of(p));
    }

    private static int[] shape(List<Param> parts) {
        int rows = 0;
        for (Param p : parts) rows += p.shape[0];
        int[] first = parts.get(0).shape;
        return first.length == 1 ? new int[] {rows} : new int[] {rows, first[1]};
    }

    /** The model's tensors under PyTorch's names; {@code what} picks each parameter's value or its gradient. */
    public static Map<String, Safetensors.Tensor> tensors(Seq2SeqLM m, Function<Param, float[]> what) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<Param>> e : bindings(m).entrySet()) {
            int[] shape = shape(e.getValue());
            float[] stacked = new float[shape.length == 1 ? shape[0] : shape[0] * shape[1]];
            int at = 0;
            for (Param p : e.getValue()) {
                System.arraycopy(what.apply(p), 0, stacked, at, p.size());
                at += p.size();
            }
            out.put(e.getKey(), new Safetensors.Tensor(shape, stacked));
        }
        return out;
    }

    /** Copies tensors named as {@link #tensors} names them (optionally with a prefix) into the model; every one must be there, shaped right. */
    public static void load(Seq2SeqLM m, Map<String, Safetensors.Tensor> t, String prefix, String what) {
        for (Map.Entry<String, List<Param>> e : bindings(m).entrySet()) {
            Safetensors.Tensor have = t.get(prefix + e.getKey());
            if (have == null) throw new LlmjException(what + " has no tensor " + prefix + e.getKey());
            int[] shape = shape(e.getValue());
            if (!java.util.Arrays.equals(have.shape(), shape)) {
                throw new LlmjException(what + ": tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(have.shape())
                        + ", the config says " + java.util.Arrays.toString(shape));
            }
            int at = 0;
            for (Param p : e.getValue()) {
                System.arraycopy(have.data(), at, p.value(), 0, p.size());
                at += p.size();
            }
        }
    }

    public static void load(Seq2SeqLM m, Map<String, Safetensors.Tensor> t, String what) {
        load(m, t, "", what);
    }
}
