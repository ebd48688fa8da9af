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
 * @param bias       whether linear layers have biases
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
