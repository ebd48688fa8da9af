package dev.llmj.generate;

import dev.llmj.LlmjException;
import dev.llmj.model.Seq2SeqCache;
import dev.llmj.model.Seq2SeqLM;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decoding an encoder–decoder: the source is encoded once (and each decoder block's cross-attention
 * keys and values of it computed once), then the target grows one token at a time from &lt;bos&gt;
 * through the decoder's KV cache until &lt;eos&gt; or the length limit.
 * <ul>
 *   <li>greedy: the most likely next token each time;</li>
 *   <li>beam search: the {@code width} best partial targets by total log-probability are kept (each
 *   a cache row; the cache rows follow the beams that survive); a target that ends in &lt;eos&gt; is
 *   finished with the score log P(y) / lp(|y|), GNMT's length penalty lp(n) = ((5 + n) / 6)^α, n
 *   counting &lt;eos&gt; (α = 0: plain log-probability; larger α favours longer outputs). The search
 *   stops when no live beam can still beat the best finished one (its log P only falls and, with
 *   α ≥ 0, lp only grows, so log P_now / lp(max) bounds it) or at the length limit, where live
 *   beams are scored as they stand.</li>
 * </ul>
 */
public final class Seq2SeqDecoder {

    /** A decoded target: its ids (no &lt;bos&gt;, no &lt;eos&gt;), Σ log p (with &lt;eos&gt;'s when finished), and its length-penalised score. */
    public record Result(int[] ids, double logProb, double score, boolean finished) {}

    /** What search needs from a model: next-token log-probabilities for a set of rows (hypotheses). */
    public interface Steps {
        /** Row r of 0..n−1 appends {@code tokens[r]}; returns the next token's log-probabilities, [n, V]. */
        float[] step(int[] tokens, int n);

        /** Rows 0..n−1 become copies of rows {@code parents[0..n−1]}. */
        void reorder(int[] parents, int n);

        int vocabSize();
    }

    private Seq2SeqDecoder() {}

    /** GNMT's length penalty: ((5 + n) / 6)^α. */
    public static double lengthPenalty(int length, double alpha) {
        return Math.pow((5.0 + length) / 6.0, alpha);
    }

    /** {@code model} decoding the source {@code src} (ids, all real) with {@code rows} cache rows: one per beam. */
    public static Steps steps(Seq2SeqLM model, int[] src, int rows) {
        Seq2SeqCache cache = model.startDecoding(src, rows);
        int v = model.config.vocabSize();
        return new Steps() {
            float[] logp = new float[0];

            @Override
            public float[] step(int[] tokens, int n) {
                float[] logits = model.decodeStep(tokens, n, cache);
                if (logp.length < n * v) logp = new float[n * v];
                for (int r = 0; r < n; r++) logSoftmax(logits, r * v, v, logp);
                return logp;
            }

            @Override
            public void reorder(int[] parents, int n) {
                cache.reorder(parents, n);
            }

            @Override
            public int vocabSize() {
                return v;
            }
        };
    }

    /**
     * Translates one source: greedy when {@code beam} is 1 and α is 0, beam search otherwise. At most
     * {@code maxTokens} target tokens (&lt;eos&gt; included), and no more than the context length.
     */
    public static Result translate(Seq2SeqLM model, int[] src, int bos, int eos, int beam, double alpha, int maxTokens) {
        if (beam < 1) throw new LlmjException("--beam must be at least 1, not " + beam);
        if (!(alpha >= 0)) throw new LlmjException("--length-penalty must be ≥ 0, not " + alpha);
        if (maxTokens < 1) throw new LlmjException("--max-tokens must be at least 1, not " + maxTokens);
        int max = Math.min(maxTokens, model.config.contextLength());
        return beam == 1 && alpha == 0 ? greedy(steps(model, src, 1), bos, eos, max) : beam(steps(model, src, beam), bos, eos, beam, alpha, max);
    }

    /** The most likely token at each step, from &lt;bos&gt; until &lt;eos&gt; or {@code maxTokens} tokens. */
    public static Result greedy(Steps s, int bos, int eos, int maxTokens) {
        int v = s.vocabSize();
        int[] token = {bos};
        List<Integer> out = new ArrayList<>();
        double logProb = 0;
        for (int step = 1; step <= maxTokens; step++) {
            float[] lp = s.step(token, 1);
            int best = 0;
            for (int j = 1; j < v; j++) if (lp[j] > lp[best]) best = j;
            logProb += lp[best];
            if (best == eos) return new Result(ints(out), logProb, logProb, true);
            out.add(best);
            token[0] = best;
        }
        return new Result(ints(out), logProb, logProb, false);
    }

    private record Hyp(int[] ids, double logProb) {}

    /** Beam search of {@code width} beams with length penalty α (see the class comment); the best-scoring target. */
    public static Result beam(Steps s, int bos, int eos, int width, double alpha, int maxTokens) {
        if (width < 1) throw new IllegalArgumentException("beam width must be at least 1");
        if (!(alpha >= 0)) throw new IllegalArgumentException("the length penalty α must be ≥ 0");
        int v = s.vocabSize(), keep = Math.min(2 * width, width * v);
        List<Hyp> live = new ArrayList<>(List.of(new Hyp(new int[0], 0)));
        int[] tokens = new int[width], parents = new int[width];
        tokens[0] = bos;
        Result best = null;
        int[] cand = new int[keep];
        double[] candScore = new double[keep];
        for (int step = 1; step <= maxTokens; step++) {
            int n = live.size();
            float[] lp = s.step(tokens, n);
            // the 2·width best (row, token) extensions by total log-probability, best first (ties: lower row, then lower id)
            int found = 0;
            for (int i = 0; i < n * v; i++) {
                double total = live.get(i / v).logProb() + lp[i];
                if (found == keep && total <= candScore[found - 1]) continue;
                int at = found < keep ? found++ : keep - 1;
                while (at > 0 && candScore[at - 1] < total) {
                    cand[at] = cand[at - 1];
                    candScore[at] = candScore[at - 1];
                    at--;
                }
                cand[at] = i;
                candScore[at] = total;
            }
            List<Hyp> next = new ArrayList<>(width);
            for (int c = 0; c < found && next.size() < width; c++) {
                int r = cand[c] / v, j = cand[c] % v;
                int[] prefix = live.get(r).ids();
                if (j == eos) {
                    double score = candScore[c] / lengthPenalty(step, alpha);
                    if (best == null || score > best.score()) best = new Result(prefix, candScore[c], score, true);
                } else {
                    int[] ids = Arrays.copyOf(prefix, step);
                    ids[step - 1] = j;
                    parents[next.size()] = r;
                    tokens[next.size()] = j;
                    next.add(new Hyp(ids, candScore[c]));
                }
            }
            if (next.isEmpty()) break;
            double bound = next.get(0).logProb() / lengthPenalty(maxTokens, alpha); // next is sorted: its first is the most probable
            if (step == maxTokens || (best != null && bound <= best.score())) {
                if (step == maxTokens) {
                    for (Hyp h : next) {
                        double score = h.logProb() / lengthPenalty(step, alpha);
                        if (best == null || score > best.score()) best = new Result(h.ids(), h.logProb(), score, false);
                    }
                }
                break;
            }
            s.reorder(parents, next.size());
            live = next;
        }
        return best;
    }

    /** out[0..n) = log softmax(x[off..off+n)). */
    static void logSoftmax(float[] x, int off, int n, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, x[off + j]);
        double sum = 0;
        for (int j = 0; j < n; j++) sum += Math.exp(x[off + j] - max);
        float log = (float) Math.log(sum);
        for (int j = 0; j < n; j++) out[off + j] = x[off + j] - max - log;
    }

    private static int[] ints(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) a[i] = list.get(i);
        return a;
    }
}
