package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

/**
 * Random batches of (source, target) pairs for teacher forcing. Each of the B rows is a pair
 * drawn uniformly at random (with replacement, from a seeded generator whose whole state is one
 * long); the decoder reads {@code <bos>} + target and must say target + {@code <eos>}, one step
 * ahead at every position:
 * <pre>
 *   srcIds   4 0 7 1 &lt;pad&gt;                         srcValid  1 1 1 1 0
 *   tgtIn    &lt;bos&gt; f o u r … o n e &lt;pad&gt;          tgtValid  1 1 … 1 0
 *   labels   f o u r … o n e &lt;eos&gt; −100
 * </pre>
 * Sources are padded to the longest source of the batch (S ≤ context length), targets to the
 * longest target + 1 (T ≤ context length); labels are {@link CrossEntropy#IGNORE} at padding.
 * A pair that does not fit the context is an error naming its line, raised when the batcher is
 * made, not halfway through training. Arrays are reused by the next batch of the same shape.
 */
public final class PairBatcher implements dev.llmj.data.BatchSource<PairBatcher.PairBatch> {
    private final Pairs data;
    private final int batchSize;
    private final Rng rng;
    private final int pad, bos, eos;
    private final int[] picked;
    private PairBatch batch;

    /**
     * One batch, row-major: {@code srcIds[b·S + s]}, {@code tgtIn[b·T + t]}.
     * srcIds, srcValid [B·S]; tgtIn, tgtValid, labels [B·T].
     */
    public record PairBatch(int batchSize, int srcTime, int tgtTime, int[] srcIds, boolean[] srcValid,
                            int[] tgtIn, boolean[] tgtValid, int[] labels) {}

    public PairBatcher(Pairs data, int batchSize, int contextLength, long seed) {
        if (batchSize < 1 || contextLength < 2) {
            throw new LlmjException("batch size must be at least 1 and context length at least 2 (got " + batchSize + " and " + contextLength + ")");
        }
        if (data.size() == 0) throw new LlmjException(data.file() + " leaves no pairs for this split; use more pairs or a smaller validation fraction");
        for (int i = 0; i < data.size(); i++) {
            Pairs.Pair p = data.get(i);
            String where = data.file() + " line " + p.line() + ": ";
            if (p.sourceIds().length > contextLength) {
                throw new LlmjException(where + "a source longer than the context (" + p.sourceIds().length + " tokens, context length "
                        + contextLength + "); shorten it or raise --context-length");
            }
            if (p.targetIds().length + 1 > contextLength) {
                throw new LlmjException(where + "a target longer than the context (" + p.targetIds().length + " tokens + <bos>/<eos>, context length "
                        + contextLength + "); shorten it or raise --context-length");
            }
        }
        Tokenizer tok = data.tokenizer();
        this.pad = tok.specials().id(SpecialTokens.Role.PAD);
        this.bos = tok.specials().id(SpecialTokens.Role.BOS);
        this.eos = tok.specials().id(SpecialTokens.Role.EOS);
        this.data = data;
        this.batchSize = batchSize;
        this.rng = new Rng(seed);
        this.picked = new int[batchSize];
    }

    /** The next batch: B pairs at random. */
    public PairBatch next() {
        for (int b = 0; b < batchSize; b++) picked[b] = rng.nextInt(data.size());
        return batch(picked);
    }

    /** A batch of the given pairs, in order (for evaluation over a whole split); draws nothing. */
    public PairBatch batch(int[] pairs) {
        int n = pairs.length, S = 0, T = 0;
        for (int i : pairs) {
            S = Math.max(S, data.get(i).sourceIds().length);
            T = Math.max(T, data.get(i).targetIds().length + 1); // + <bos> in, + <eos> out
        }
        PairBatch out = batch;
        if (out == null || out.batchSize() != n || out.srcTime() != S || out.tgtTime() != T) {
            out = batch = new PairBatch(n, S, T, new int[n * S], new boolean[n * S], new int[n * T], new boolean[n * T], new int[n * T]);
        }
        for (int b = 0; b < n; b++) {
            Pairs.Pair p = data.get(pairs[b]);
            int[] src = p.sourceIds(), tgt = p.targetIds();
            for (int s = 0; s < S; s++) {
                boolean real = s < src.length;
                out.srcIds()[b * S + s] = real ? src[s] : pad;
                out.srcValid()[b * S + s] = real;
            }
            for (int t = 0; t < T; t++) {
                int o = b * T + t;
                boolean real = t <= tgt.length;
                out.tgtIn()[o] = !real ? pad : t == 0 ? bos : tgt[t - 1];
                out.labels()[o] = !real ? CrossEntropy.IGNORE : t < tgt.length ? tgt[t] : eos;
                out.tgtValid()[o] = real;
            }
        }
        return out;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The generator state, for checkpoints. */
    public long state() {
        return rng.state();
    }

    public void setState(long state) {
        rng.setState(state);
    }
}
