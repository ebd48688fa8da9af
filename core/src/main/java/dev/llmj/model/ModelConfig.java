package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.nn.Activation;

/**
 * The shape of a decoder-only transformer, nanoGPT-small: everything a {@link DecoderLM} needs.
 * {@code family} is "gpt2" or "llama" when the options are exactly that family's (so the folder
 * is Hugging Face's), else "llmj".
 *
 * @param position   how positions enter: learned embeddings, fixed sinusoids, or RoPE on q and k
 * @param norm       "layernorm" (with bias) or "rmsnorm"
 * @param hiddenDim  the MLP's inner width (4·d for GPT-2)
 * @param bias       whether linear layers (and LayerNorms) have biases
 * @param tiedHead   whether the LM head reuses the token embedding's weights
 */
public record ModelConfig(String family, int vocabSize, int contextLength, int dModel, int nLayers, int nHeads, int nKvHeads,
                          int hiddenDim, Position position, String norm, Activation activation, boolean bias, boolean tiedHead,
                          float dropout, float normEps, float ropeTheta) {

    public enum Position { LEARNED, SINUSOIDAL, ROPE }

    /** GPT2LMHeadModel's options: learned positions, LayerNorm with bias, GELU-tanh, biases, tied head. */
    public static ModelConfig gpt2(int vocabSize, int contextLength, int dModel, int nLayers, int nHeads, float dropout) {
        return new ModelConfig("gpt2", vocabSize, contextLength, dModel, nLayers, nHeads, nHeads, 4 * dModel,
                Position.LEARNED, "layernorm", Activation.GELU, true, true, dropout, 1e-5f, 10000f);
    }

    /** LlamaForCausalLM's options: RoPE, RMSNorm, SwiGLU, no biases, GQA, untied head. */
    public static ModelConfig llama(int vocabSize, int contextLength, int dModel, int nLayers, int nHeads, int nKvHeads, int hiddenDim) {
        return new ModelConfig("llama", vocabSize, contextLength, dModel, nLayers, nHeads, nKvHeads, hiddenDim,
                Position.ROPE, "rmsnorm", Activation.SWIGLU, false, false, 0f, 1e-5f, 10000f);
    }

    public int headDim() {
        return dModel / nHeads;
    }

    public ModelConfig withVocabSize(int v) {
        return new ModelConfig(family, v, contextLength, dModel, nLayers, nHeads, nKvHeads, hiddenDim, position, norm, activation, bias,
                tiedHead, dropout, normEps, ropeTheta);
    }

    /** The config.json content: Hugging Face's keys for gpt2 and llama, explicit llmj fields otherwise. */
    public java.util.Map<String, Object> toJson(int bosId, int eosId) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        switch (family) {
            case "gpt2" -> {
                m.put("architectures", java.util.List.of("GPT2LMHeadModel"));
                m.put("model_type", "gpt2");
                m.put("vocab_size", vocabSize);
                m.put("n_positions", contextLength);
                m.put("n_ctx", contextLength);
                m.put("n_embd", dModel);
                m.put("n_layer", nLayers);
                m.put("n_head", nHeads);
                m.put("n_inner", hiddenDim);
                m.put("activation_function", activation == Activation.GELU_ERF ? "gelu" : "gelu_new");
                m.put("resid_pdrop", json(dropout));
                m.put("embd_pdrop", json(dropout));
                m.put("attn_pdrop", 0.0); // llmj does not drop attention weights
                m.put("layer_norm_epsilon", json(normEps));
                m.put("initializer_range", 0.02);
                m.put("tie_word_embeddings", true);
            }
            case "llama" -> {
                m.put("architectures", java.util.List.of("LlamaForCausalLM"));
                m.put("model_type", "llama");
                m.put("vocab_size", vocabSize);
                m.put("hidden_size", dModel);
                m.put("intermediate_size", hiddenDim);
                m.put("num_hidden_layers", nLayers);
                m.put("num_attention_heads", nHeads);
                m.put("num_key_value_heads", nKvHeads);
                m.put("max_position_embeddings", contextLength);
                m.put("rms_norm_eps", json(normEps));
                m.put("rope_theta", json(ropeTheta));
                m.put("hidden_act", "silu");
                m.put("attention_bias", false);
                m.put("mlp_bias", false);
                m.put("tie_word_embeddings", tiedHead);
                m.put("initializer_range", 0.02);
            }
            default -> {
                m.put("model_type", "llmj");
                m.put("vocab_size", vocabSize);
                m.put("context_length", contextLength);
                m.put("d_model", dModel);
                m.put("n_layers", nLayers);
                m.put("n_heads", nHeads);
                m.put("n_kv_heads", nKvHeads);
                m.put("hidden_dim", hiddenDim);
                m.put("position", position.name().toLowerCase(java.util.Locale.ROOT));
                m.put("norm", norm);
                m.put("activation", activation.name().toLowerCase(java.util.Locale.ROOT));
                m.put("bias", bias);
                m.put("tie_word_embeddings", tiedHead);
                m.put("dropout", json(dropout));
                m.put("norm_eps", json(normEps));
                m.put("rope_theta", json(ropeTheta));
            }
        }
        if (bosId >= 0) m.put("bos_token_id", bosId);
        if (eosId >= 0) m.put("eos_token_id", eosId);
        m.put("torch_dtype", "float32");
        return m;
    }

    /** Reads a config.json's content (gpt2, llama or llmj); {@code what} names it in errors. */
    public static ModelConfig fromJson(java.util.Map<String, Object> m, String what) {
        Object type = m.get("model_type");
        try {
            return switch (String.valueOf(type)) {
                case "gpt2" -> {
                    int d = i(m, "n_embd");
                    Object inner = m.get("n_inner");
                    String act = String.valueOf(m.getOrDefault("activation_function", "gelu_new"));
                    if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh") && !act.equals("gelu")) {
                        throw new dev.llmj.LlmjException(what + ": activation_function " + act + " is not supported (llmj's GPT-2 reads gelu_new and gelu)");
                    }
                    yield new ModelConfig("gpt2", i(m, "vocab_size"), i(m, "n_positions"), d, i(m, "n_layer"), i(m, "n_head"), i(m, "n_head"),
                            inner == null ? 4 * d : (int) dev.llmj.io.Json.num(inner, "n_inner"), Position.LEARNED, "layernorm",
                            act.equals("gelu") ? Activation.GELU_ERF : Activation.GELU,
                            true, true, f(m, "resid_pdrop", 0f), f(m, "layer_norm_epsilon", 1e-5f), 10000f);
                }
                case "llama" -> {
                    int heads = i(m, "num_attention_heads");
                    if (m.get("rope_scaling") != null) throw new dev.llmj.LlmjException(what + ": rope_scaling is not supported yet");
                    if (!"silu".equals(m.getOrDefault("hidden_act", "silu"))) throw new dev.llmj.LlmjException(what + ": hidden_act must be silu");
                    yield new ModelConfig("llama", i(m, "vocab_size"), i(m, "max_position_embeddings"), i(m, "hidden_size"),
                            i(m, "num_hidden_layers"), heads, m.containsKey("num_key_value_heads") ? i(m, "num_key_value_heads") : heads,
                            i(m, "intermediate_size"), Position.ROPE, "rmsnorm", Activation.SWIGLU,
                            Boolean.TRUE.equals(m.get("attention_bias")), Boolean.TRUE.equals(m.get("tie_word_embeddings")),
                            0f, f(m, "rms_norm_eps", 1e-6f), f(m, "rope_theta", 10000f));
                }
                case "llmj" -> new ModelConfig("llmj", i(m, "vocab_size"), i(m, "context_length"), i(m, "d_model"), i(m, "n_layers"),
                        i(m, "n_heads"), i(m, "n_kv_heads"), i(m, "hidden_dim"),
                        Position.valueOf(String.valueOf(m.get("position")).toUpperCase(java.util.Locale.ROOT)), String.valueOf(m.get("norm")),
                        Activation.valueOf(String.valueOf(m.get("activation")).toUpperCase(java.util.Locale.ROOT)),
                        Boolean.TRUE.equals(m.get("bias")), Boolean.TRUE.equals(m.get("tie_word_embeddings")),
                        f(m, "dropout", 0f), f(m, "norm_eps", 1e-5f), f(m, "rope_theta", 10000f));
                case "bert" -> throw new dev.llmj.LlmjException(what + ": model_type bert is an encoder (BERT), not a decoder:"
                        + " fill-mask and embed take it; generate, eval and explain take gpt2, llama and llmj folders");
                case Seq2SeqConfig.MODEL_TYPE -> throw new dev.llmj.LlmjException(what + " is an encoder–decoder (" + type
                        + "), not a decoder-only language model: use it with llmj translate --model DIR");
                default -> throw new dev.llmj.LlmjException(what + ": model_type " + type + " is not supported; llmj reads gpt2, llama and llmj");
            };
        } catch (IllegalArgumentException e) {
            throw new dev.llmj.LlmjException(what + ": " + e.getMessage());
        }
    }

    /** A float as the decimal it was written as (1e-5, not 9.999999747378752E-6). */
    private static double json(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    private static int i(java.util.Map<String, Object> m, String key) {
        if (!m.containsKey(key)) throw new dev.llmj.LlmjException("config.json has no \"" + key + "\"");
        return (int) dev.llmj.io.Json.num(m.get(key), key);
    }

    private static float f(java.util.Map<String, Object> m, String key, float dflt) {
        Object v = m.get(key);
        return v instanceof Number n ? n.floatValue() : dflt;
    }

    /** Every impossible combination, as one clear error. */
    public ModelConfig validate() {
        if (vocabSize < 1 || contextLength < 1 || dModel < 1 || nLayers < 1 || nHeads < 1 || nKvHeads < 1 || hiddenDim < 1) {
            throw new LlmjException("model sizes must be positive (vocab " + vocabSize + ", context " + contextLength + ", d " + dModel
                    + ", layers " + nLayers + ", heads " + nHeads + ", kv heads " + nKvHeads + ", hidden " + hiddenDim + ")");
        }
        if (dModel % nHeads != 0) throw new LlmjException("--heads " + nHeads + " does not divide --d-model " + dModel);
        if (nHeads % nKvHeads != 0) throw new LlmjException("--kv-heads " + nKvHeads + " does not divide --heads " + nHeads + " (GQA groups must be equal)");
        if (position == Position.ROPE && headDim() % 2 != 0) throw new LlmjException("RoPE needs an even head size; d/heads = " + headDim());
        if (position == Position.SINUSOIDAL && dModel % 2 != 0) throw new LlmjException("sinusoidal positions need an even --d-model");
        if (!(dropout >= 0f && dropout < 1f)) throw new LlmjException("--dropout must be in [0, 1), not " + dropout);
        if (!(normEps > 0f)) throw new LlmjException("the norm epsilon must be positive, not " + normEps);
        if (!norm.equals("layernorm") && !norm.equals("rmsnorm")) throw new LlmjException("unknown norm '" + norm + "': use layernorm or rmsnorm");
        return this;
    }
}
