package dev.llmj.generate;

import dev.llmj.tensor.Rng;

import java.util.Arrays;

/**
 * Picks the next token from one row of logits: repetition penalty, then greedy or
 * temperature → top-k → top-p → min-p → a draw from what is left (Hugging Face's order).
 * Top-k keeps exactly k tokens; among tokens of exactly equal probability the higher id goes
 * first (Hugging Face keeps every token tied with the k-th). One sampler per sequence; its
 * buffers are sized once for the vocabulary.
 */
public final class Sampler {
    private final GenerationConfig cfg;
    private final int vocab;
    private final Rng rng;
    private final boolean[] seen;   // [V]: tokens in the prompt or the output so far
    private final float[] p;        // [V]: scores, then probabilities
    private final long[] order;     // [V]: probability bits << 32 | id, for sorting
    private final boolean[] banned; // [V] or null: ids never to draw (unused ids of a tiktoken vocabulary)

    public Sampler(GenerationConfig cfg, int vocab, long seed) {
        this(cfg, vocab, seed, null);
    }

    public Sampler(GenerationConfig cfg, int vocab, long seed, boolean[] banned) {
        this.cfg = cfg;
        this.banned = banned;
        this.vocab = vocab;
        this.rng = new Rng(seed);
        this.seen = new boolean[vocab];
        this.p = new float[vocab];
        this.order = new long[vocab];
    }

    /** Notes a token of the prompt or output, for the repetition penalty. */
    public void observe(int id) {
        seen[id] = true;
    }

    /** The next token, from logits[off .. off + V). */
    public int sample(float[] logits, int off) {
        System.arraycopy(logits, off, p, 0, vocab);
        float pen = cfg.repetitionPenalty();
        if (pen != 1f) {
            for (int i = 0; i < vocab; i++) if (seen[i]) p[i] = p[i] > 0 ? p[i] / pen : p[i] * pen;
        }
        if (banned != null) for (int i = 0; i < vocab; i++) if (banned[i]) p[i] = Float.NEGATIVE_INFINITY;
        if (cfg.temperature() < GREEDY_BELOW) return argmax(p);
        // softmax(p / temperature), in double for the sum
        float inv = 1f / cfg.temperature(), max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, p[i] * inv);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += (p[i] = (float) Math.exp(p[i] * inv - max));
        boolean filter = cfg.topK() > 0 && cfg.topK() < vocab || cfg.topP() < 1f || cfg.minP() > 0f;
        if (!filter) return draw(sum);
        for (int i = 0; i < vocab; i++) order[i] = (long) Float.floatToRawIntBits(p[i]) << 32 | i; // p ≥ 0: bits sort as floats
        Arrays.sort(order);                                                                      // ascending: the best is last
        int keep = cfg.topK() > 0 ? Math.min(cfg.topK(), vocab) : vocab;
        double kept = 0;
        for (int j = 0; j < keep; j++) kept += prob(vocab - 1 - j);
        if (cfg.topP() < 1f) { // the fewest tokens whose share of the top-k mass reaches p (at least one)
            double cum = 0;
            for (int j = 0; j < keep; j++) {
                cum += prob(vocab - 1 - j);
                if (cum >= cfg.topP() * kept) {
                    keep = j + 1;
                    break;
                }
            }
        }
        float floor = cfg.minP() * prob(vocab - 1);
        double total = 0;
        int n = 0;
        for (; n < keep && prob(vocab - 1 - n) >= floor; n++) total += prob(vocab - 1 - n);
        double u = rng.nextDouble() * total;
        int last = vocab - 1;
        for (int j = 0; j < n; j++) {
            float q = prob(vocab - 1 - j);
            if (q == 0f) break;
            last = vocab - 1 - j;
            u -= q;
            if (u < 0) return id(last);
        }
        return id(last); // rounding left a sliver of u: the least likely kept token with any weight
    }

    /** A temperature this small (or 0) is greedy: dividing by it would overflow the scores. */
    static final float GREEDY_BELOW = 1e-6f;

    private float prob(int j) {
        return Float.intBitsToFloat((int) (order[j] >>> 32));
    }

    private int id(int j) {
        return (int) order[j];
    }

    /** A draw in id order from unnormalised weights p summing to {@code sum}. */
    private int draw(double sum) {
        double u = rng.nextDouble() * sum;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (p[i] == 0f) continue;
            last = i;
            u -= p[i];
            if (u < 0) return i;
        }
        return last; // rounding left a sliver of u: the last token with any weight
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /** The random generator's state (to check or resume a run). */
    public long state() {
        return rng.state();
    }
}
