package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.nn.Activation;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of an encoder–decoder ({@link Seq2SeqLM}): torch.nn.Transformer's constructor arguments
 * plus the vocabulary and positions. No Hugging Face class holds this model, so its config.json has
 * {@code "model_type": "llmj-seq2seq"} and these fields spelled out.
 *
 * @param vocabSize      one vocabulary shared by source and target (one embedding table)
 * @param contextLength  the most positions of a source, and of a target (with its &lt;bos&gt;)
 * @param activation     RELU (PyTorch's default) or GELU_ERF (PyTorch's "gelu")
 * @param normFirst      false: post-norm, PyTorch's default and the original Transformer; true: pre-norm
 * @param position       SINUSOIDAL (the Annotated Transformer's) or LEARNED, one table for both sides
 */
public record Seq2SeqConfig(int vocabSize, int contextLength, int dModel, int encoderLayers, int decoderLayers, int nHeads, int hiddenDim,
                            Activation activation, boolean normFirst, float dropout, float normEps, ModelConfig.Position position) {

    public static final String MODEL_TYPE = "llmj-seq2seq";

    public int headDim() {
        return dModel / nHeads;
    }

    public Seq2SeqConfig withVocabSize(int v) {
        return new Seq2SeqConfig(v, contextLength, dModel, encoderLayers, decoderLayers, nHeads, hiddenDim, activation, normFirst, dropout,
                normEps, position);
    }

    /** config.json's content; the special-token ids are written when ≥ 0. */
    public Map<String, Object> toJson(int padId, int bosId, int eosId) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", MODEL_TYPE);
        m.put("vocab_size", vocabSize);
        m.put("context_length", contextLength);
        m.put("d_model", dModel);
        m.put("encoder_layers", encoderLayers);
        m.put("decoder_layers", decoderLayers);
        m.put("n_heads", nHeads);
        m.put("hidden_dim", hiddenDim);
        m.put("activation", activation.name().toLowerCase(Locale.ROOT));
        m.put("norm_first", normFirst);
        m.put("dropout", Double.parseDouble(Float.toString(dropout)));
        m.put("norm_eps", Double.parseDouble(Float.toString(normEps)));
        m.put("position", position.name().toLowerCase(Locale.ROOT));
        if (padId >= 0) m.put("pad_token_id", padId);
        if (bosId >= 0) m.put("bos_token_id", bosId);
        if (eosId >= 0) m.put("eos_token_id", eosId);
        m.put("torch_dtype", "float32");
        return m;
    }

    /** Reads config.json's content; {@code what} names the file in errors. */
    public static Seq2SeqConfig fromJson(Map<String, Object> m, String what) {
        if (!MODEL_TYPE.equals(m.get("model_type"))) {
            throw new LlmjException(what + ": model_type " + m.get("model_type") + " is not an encoder–decoder (" + MODEL_TYPE + ")");
        }
        try {
            return new Seq2SeqConfig(i(m, "vocab_size", what), i(m, "context_length", what), i(m, "d_model", what), i(m, "encoder_layers", what),
                    i(m, "decoder_layers", what), i(m, "n_heads", what), i(m, "hidden_dim", what),
                    Activation.valueOf(String.valueOf(m.get("activation")).toUpperCase(Locale.ROOT)), Boolean.TRUE.equals(m.get("norm_first")),
                    f(m, "dropout", 0f), f(m, "norm_eps", 1e-5f),
                    ModelConfig.Position.valueOf(String.valueOf(m.getOrDefault("position", "sinusoidal")).toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new LlmjException(what + ": " + e.getMessage());
        }
    }

    private static int i(Map<String, Object> m, String key, String what) {
        if (!m.containsKey(key)) throw new LlmjException(what + " has no \"" + key + "\"");
        return (int) dev.llmj.io.Json.num(m.get(key), key);
    }

    private static float f(Map<String, Object> m, String key, float dflt) {
        return m.get(key) instanceof Number n ? n.floatValue() : dflt;
    }

    /** Every impossible combination, as one clear error. */
    public Seq2SeqConfig validate() {
        if (vocabSize < 1 || contextLength < 1 || dModel < 1 || encoderLayers < 1 || decoderLayers < 1 || nHeads < 1 || hiddenDim < 1) {
            throw new LlmjException("model sizes must be positive (vocab " + vocabSize + ", context " + contextLength + ", d " + dModel
                    + ", encoder layers " + encoderLayers + ", decoder layers " + decoderLayers + ", heads " + nHeads + ", hidden " + hiddenDim + ")");
        }
        if (dModel % nHeads != 0) throw new LlmjException("--heads " + nHeads + " does not divide --d-model " + dModel);
        if (activation != Activation.RELU && activation != Activation.GELU_ERF) {
            throw new LlmjException("an encoder–decoder's activation is relu or gelu_erf (torch.nn.Transformer's), not " + activation.name().toLowerCase(Locale.ROOT));
        }
        if (position != ModelConfig.Position.SINUSOIDAL && position != ModelConfig.Position.LEARNED) {
            throw new LlmjException("an encoder–decoder's positions are sinusoidal or learned, not " + position.name().toLowerCase(Locale.ROOT));
        }
        if (position == ModelConfig.Position.SINUSOIDAL && dModel % 2 != 0) throw new LlmjException("sinusoidal positions need an even --d-model");
        if (!(dropout >= 0f && dropout < 1f)) throw new LlmjException("--dropout must be in [0, 1), not " + dropout);
        if (!(normEps > 0f)) throw new LlmjException("the norm epsilon must be positive, not " + normEps);
        return this;
    }
}
