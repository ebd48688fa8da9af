package dev.llmj.generate;

import dev.llmj.nn.Softmax;
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
        // softmax(p / temperature) on whole vectors: p ← e^(p/T − max), unnormalised, and their sum
        float inv = 1f / cfg.temperature();
        double sum = Softmax.expAndSum(p, 0, p, 0, vocab, inv, Softmax.max(p, 0, vocab) * inv);
        boolean filter = cfg.topK() > 0 && cfg.topK() < vocab || cfg.topP() < 1f || cfg.minP() > 0f;
        if (!filter) return draw(sum);
        int m = candidates(sum);                                      // order[0..m): ascending, the best last
        int keep = cfg.topK() > 0 ? Math.min(cfg.topK(), m) : m;
        double kept = 0;                                              // the mass top-p is a share of: top-k's, or all of it
        if (cfg.topK() > 0 && cfg.topK() < vocab) for (int j = 0; j < keep; j++) kept += prob(m - 1 - j);
        else kept = sum;
        if (cfg.topP() < 1f) { // the fewest tokens whose share of the top-k mass reaches p (at least one)
            double cum = 0;
            for (int j = 0; j < keep; j++) {
                cum += prob(m - 1 - j);
                if (cum >= cfg.topP() * kept) {
                    keep = j + 1;
                    break;
                }
            }
        }
        float floor = cfg.minP() * prob(m - 1);
        double total = 0;
        int n = 0;
        for (; n < keep && prob(m - 1 - n) >= floor; n++) total += prob(m - 1 - n);
        double u = rng.nextDouble() * total;
        int last = m - 1;
        for (int j = 0; j < n; j++) {
            float q = prob(m - 1 - j);
            if (q == 0f) break;
            last = m - 1 - j;
            u -= q;
            if (u < 0) return id(last);
        }
        return id(last); // rounding left a sliver of u: the least likely kept token with any weight
    }

    /**
     * Puts into order[0..m), sorted ascending (the best last; equal weights by id), every token whose weight is at
     * least a bound that no token the filters keep is under, and returns m. Sorting the whole vocabulary took
     * 170 µs a token for 32,000 tokens, more than any layer of a 110M model's decoding; the filters read only its top.
     * The bounds: top-k's k-th largest weight (all of the top k are needed, for the mass top-p then shares); else
     * top-p's: a token of the nucleus other than the best weighs at least (1 − p)·sum/(V − 1), or the tokens from it
     * on would sum to less than 1 − p of the mass, as they must not (halved, for rounding); else min-p's floor. The
     * best token is always in.
     */
    private int candidates(double sum) {
        float best = Softmax.max(p, 0, vocab), bound;
        if (cfg.topK() > 0 && cfg.topK() < vocab) bound = kthLargest(cfg.topK());
        else if (cfg.topP() < 1f) bound = (float) (0.5 * (1 - cfg.topP()) * sum / Math.max(1, vocab - 1));
        else bound = cfg.minP() * best;
        bound = Math.min(bound, best);
        int m = 0;
        for (int i = 0; i < vocab; i++) if (p[i] >= bound) order[m++] = (long) Float.floatToRawIntBits(p[i]) << 32 | i; // p ≥ 0: bits sort as floats
        Arrays.sort(order, 0, m);
        return m;
    }

    /**
     * The k-th largest weight, or a little under it: the weights' bits (non-negative floats, so ordered as ints) counted
     * in buckets of their top {@value #BUCKET_BITS} bits, then the buckets walked down from the top until they hold k;
     * the lowest weight of that bucket is the bound. One pass over the vocabulary, and a few more candidates than k.
     */
    private float kthLargest(int k) {
        Arrays.fill(buckets, 0);
        int shift = 31 - BUCKET_BITS;
        for (int i = 0; i < vocab; i++) buckets[Float.floatToRawIntBits(p[i]) >>> shift]++;
        int b = buckets.length - 1;
        for (int seen = buckets[b]; seen < k && b > 0; ) seen += buckets[--b];
        return Float.intBitsToFloat(b << shift);
    }

    /** Buckets of {@link #kthLargest}: 8 bits of exponent and 5 of mantissa (a 32nd of an octave each), 32 KB. */
    private static final int BUCKET_BITS = 13;
    private final int[] buckets = new int[1 << BUCKET_BITS];

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
