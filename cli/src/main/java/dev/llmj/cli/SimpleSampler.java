package dev.llmj.cli;

import dev.llmj.model.DecoderLM;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Temperature sampling by recomputing the whole window for each new token: the simple version,
 * enough to show what a freshly trained model writes (the KV-cache generator is the fast one).
 */
final class SimpleSampler {
    private SimpleSampler() {}

    static String sample(DecoderLM model, Tokenizer tok, String prompt, int newTokens, float temperature, Rng rng) {
        int ctx = model.config.contextLength(), vocab = model.config.vocabSize();
        int[] ids;
        try {
            ids = tok.encode(prompt);
        } catch (dev.llmj.LlmjException notInTheVocabulary) { // a corpus with no line breaks: start from token 0
            ids = new int[0];
        }
        if (ids.length == 0) ids = new int[] {0};
        int[] seq = Arrays.copyOf(ids, ids.length + newTokens);
        int n = ids.length;
        for (int k = 0; k < newTokens; k++) {
            int from = Math.max(0, n - ctx), len = n - from;
            float[] logits = model.forward(Arrays.copyOfRange(seq, from, n), 1, len, false);
            int o = (len - 1) * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < tok.vocabSize(); j++) max = Math.max(max, logits[o + j] / temperature);
            double[] p = new double[tok.vocabSize()];
            double sum = 0;
            for (int j = 0; j < p.length; j++) sum += (p[j] = Math.exp(logits[o + j] / temperature - max));
            double u = rng.nextDouble() * sum;
            int pick = p.length - 1;
            for (int j = 0; j < p.length; j++) {
                u -= p[j];
                if (u <= 0) { pick = j; break; }
            }
            seq[n++] = pick;
        }
        return tok.decode(Arrays.copyOfRange(seq, ids.length, n));
    }
}
