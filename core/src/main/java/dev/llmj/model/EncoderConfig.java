package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.nn.Activation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a BERT-style encoder, everything an {@link EncoderLM} needs, with Hugging Face's
 * {@code bert} config.json ({@code BertForMaskedLM}) as its file form. Attention, MLP and norms all
 * have biases, blocks are post-norm, positions are learned ("absolute"), the MLM decoder is tied to
 * the word embeddings.
 *
 * @param contextLength  max_position_embeddings: the longest input, [CLS] and [SEP] included
 * @param hiddenDim      intermediate_size: the MLP's inner width (4·d in BERT)
 * @param activation     hidden_act: GELU_ERF is BERT's "gelu"; GELU ("gelu_new") and RELU also work
 * @param typeVocabSize  how many segments (token types) there are: 2 in BERT (sentence A and B)
 * @param dropout        hidden_dropout_prob: after the embeddings and on each residual branch
 * @param normEps        layer_norm_eps: 1e-12 in BERT
 */
public record EncoderConfig(int vocabSize, int contextLength, int dModel, int nLayers, int nHeads, int hiddenDim,
                            Activation activation, int typeVocabSize, float dropout, float normEps) {

    /** BERT's options for a given size: 4·d MLP, exact GELU, 2 segments, eps 1e-12. */
    public static EncoderConfig bert(int vocabSize, int contextLength, int dModel, int nLayers, int nHeads, float dropout) {
        return new EncoderConfig(vocabSize, contextLength, dModel, nLayers, nHeads, 4 * dModel, Activation.GELU_ERF, 2, dropout, 1e-12f);
    }

    public int headDim() {
        return dModel / nHeads;
    }

    public EncoderConfig withVocabSize(int v) {
        return new EncoderConfig(v, contextLength, dModel, nLayers, nHeads, hiddenDim, activation, typeVocabSize, dropout, normEps);
    }

    public EncoderConfig withContextLength(int t) {
        return new EncoderConfig(vocabSize, t, dModel, nLayers, nHeads, hiddenDim, activation, typeVocabSize, dropout, normEps);
    }

    /** Every impossible combination, as one clear error. */
    public EncoderConfig validate() {
        if (vocabSize < 1 || contextLength < 1 || dModel < 1 || nLayers < 1 || nHeads < 1 || hiddenDim < 1 || typeVocabSize < 1) {
            throw new LlmjException("encoder sizes must be positive (vocab " + vocabSize + ", context " + contextLength + ", d " + dModel
                    + ", layers " + nLayers + ", heads " + nHeads + ", hidden " + hiddenDim + ", segments " + typeVocabSize + ")");
        }
        if (dModel % nHeads != 0) throw new LlmjException("--heads " + nHeads + " does not divide --d-model " + dModel);
        if (activation != Activation.GELU_ERF && activation != Activation.GELU && activation != Activation.RELU) {
            throw new LlmjException("an encoder's activation must be gelu (exact), gelu_new (tanh) or relu, not " + activation);
        }
        if (!(dropout >= 0f && dropout < 1f)) throw new LlmjException("--dropout must be in [0, 1), not " + dropout);
        if (!(normEps > 0f)) throw new LlmjException("the norm epsilon must be positive, not " + normEps);
        return this;
    }

    /** Hugging Face's hidden_act for our activation. */
    private String hiddenAct() {
        return switch (activation) {
            case GELU_ERF -> "gelu";
            case GELU -> "gelu_new";
            case RELU -> "relu";
            default -> throw new IllegalStateException(activation.name());
        };
    }

    /** config.json of a {@code BertForMaskedLM}; {@code padId} −1 when the tokenizer has no padding token. */
    public Map<String, Object> toJson(int padId) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("BertForMaskedLM"));
        m.put("model_type", "bert");
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", dModel);
        m.put("num_hidden_layers", nLayers);
        m.put("num_attention_heads", nHeads);
        m.put("intermediate_size", hiddenDim);
        m.put("hidden_act", hiddenAct());
        m.put("hidden_dropout_prob", json(dropout));
        m.put("attention_probs_dropout_prob", 0.0); // llmj does not drop attention weights
        m.put("max_position_embeddings", contextLength);
        m.put("type_vocab_size", typeVocabSize);
        m.put("initializer_range", 0.02);
        m.put("layer_norm_eps", json(normEps));
        m.put("pad_token_id", Math.max(padId, 0));
        m.put("position_embedding_type", "absolute");
        m.put("tie_word_embeddings", true);
        m.put("torch_dtype", "float32");
        return m;
    }

    /** Reads a bert config.json's content; {@code what} names it in errors. */
    public static EncoderConfig fromJson(Map<String, Object> m, String what) {
        if (!"bert".equals(m.get("model_type"))) {
            throw new LlmjException(what + ": model_type " + m.get("model_type") + " is not an encoder; llmj's encoders read model_type bert");
        }
        Object pos = m.getOrDefault("position_embedding_type", "absolute");
        if (!"absolute".equals(pos)) throw new LlmjException(what + ": position_embedding_type " + pos + " is not supported (llmj reads absolute)");
        if (Boolean.FALSE.equals(m.get("tie_word_embeddings"))) {
            throw new LlmjException(what + ": tie_word_embeddings false is not supported (llmj's MLM decoder is the word embedding)");
        }
        String act = String.valueOf(m.getOrDefault("hidden_act", "gelu"));
        Activation a = switch (act) {
            case "gelu" -> Activation.GELU_ERF;
            case "gelu_new", "gelu_pytorch_tanh" -> Activation.GELU;
            case "relu" -> Activation.RELU;
            default -> throw new LlmjException(what + ": hidden_act " + act + " is not supported (llmj reads gelu, gelu_new and relu)");
        };
        return new EncoderConfig(i(m, "vocab_size", what), i(m, "max_position_embeddings", what), i(m, "hidden_size", what),
                i(m, "num_hidden_layers", what), i(m, "num_attention_heads", what), i(m, "intermediate_size", what), a,
                m.containsKey("type_vocab_size") ? i(m, "type_vocab_size", what) : 2, f(m, "hidden_dropout_prob", 0.1f),
                f(m, "layer_norm_eps", 1e-12f));
    }

    /** A float as the decimal it was written as (1e-12, not 9.999999960041972E-13). */
    private static double json(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    private static int i(Map<String, Object> m, String key, String what) {
        if (!m.containsKey(key)) throw new LlmjException(what + " has no \"" + key + "\"");
        return (int) dev.llmj.io.Json.num(m.get(key), key);
    }

    private static float f(Map<String, Object> m, String key, float dflt) {
        return m.get(key) instanceof Number n ? n.floatValue() : dflt;
    }
}
