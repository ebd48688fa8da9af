package dev.llmj.generate;

import dev.llmj.LlmjException;

import java.util.List;

/**
 * How to pick each next token and when to stop.
 * <ul>
 *   <li>{@code temperature} 0 is greedy (always the most likely token); otherwise logits are divided by it
 *       before the softmax, so below 1 sharpens and above 1 flattens the distribution.</li>
 *   <li>{@code topK} keeps the k most likely tokens (0: all); {@code topP} the smallest set whose probability
 *       reaches p (1: all); {@code minP} drops tokens less likely than minP × the top token's probability (0: none).
 *       They apply in that order, as in Hugging Face's {@code generate}.</li>
 *   <li>{@code repetitionPenalty} divides a positive logit (multiplies a negative one) of every token already
 *       in the prompt or the output (1: off), as in the CTRL paper and Hugging Face.</li>
 *   <li>{@code seed}: sequence i of a batch samples with seed + i, so a run is exactly repeatable.</li>
 *   <li>Generation stops at {@code <eos>}, at the first of the {@code stop} strings (not included in the
 *       text), or after {@code maxTokens}.</li>
 *   <li>{@code slidingWindow}: when prompt plus output would pass the context length, keep the most recent
 *       three quarters of the context and re-read them, instead of failing.</li>
 * </ul>
 */
public record GenerationConfig(int maxTokens, float temperature, int topK, float topP, float minP, float repetitionPenalty,
                               long seed, List<String> stop, boolean slidingWindow) {

    public GenerationConfig {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Temperature 1 sampling with no filters, 256 tokens, seed 1337. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(256, 1f, 0, 1f, 0f, 1f, 1337, List.of(), false);
    }

    /** Always the most likely token. */
    public static GenerationConfig greedy(int maxTokens) {
        return new GenerationConfig(maxTokens, 0f, 0, 1f, 0f, 1f, 0, List.of(), false);
    }

    public GenerationConfig withMaxTokens(int n) {
        return new GenerationConfig(n, temperature, topK, topP, minP, repetitionPenalty, seed, stop, slidingWindow);
    }

    public GenerationConfig withSeed(long s) {
        return new GenerationConfig(maxTokens, temperature, topK, topP, minP, repetitionPenalty, s, stop, slidingWindow);
    }

    /** Every out-of-range setting as one clear error. (A temperature below 1e-6 counts as greedy.) */
    public GenerationConfig validate() {
        if (maxTokens < 1) throw new LlmjException("--max-tokens must be at least 1, not " + maxTokens);
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) throw new LlmjException("--temperature must be 0 (greedy) or positive, not " + temperature);
        if (topK < 0) throw new LlmjException("--top-k must be 0 (off) or positive, not " + topK);
        if (!(topP > 0f && topP <= 1f)) throw new LlmjException("--top-p must be in (0, 1], not " + topP);
        if (!(minP >= 0f && minP < 1f)) throw new LlmjException("--min-p must be in [0, 1), not " + minP);
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new LlmjException("--repetition-penalty must be positive (1 is off), not " + repetitionPenalty);
        }
        for (String s : stop) if (s.isEmpty()) throw new LlmjException("a --stop string must not be empty");
        return this;
    }
}
