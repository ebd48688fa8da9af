package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

/**
 * Random batches of whole sentences for an encoder. Each of the B rows is an example drawn
 * uniformly at random (with replacement, from a seeded generator whose whole state is one long,
 * like {@link Batcher}), cut to the context length T and padded with {@code <pad>} to the
 * longest row of the batch, T' ≤ T: shorter batches cost less, and a padding mask makes the
 * padding invisible to the model. With {@code addSpecials}, a row is {@code <bos> … <eos>}
 * (BERT's {@code [CLS] … [SEP]}) for whichever of the two the tokenizer has; the sentence, not
 * the markers, is what truncation cuts.
 * <pre>
 *   inputIds [B·T']  row-major, inputIds[b·T' + t]
 *   lengths  [B]     real tokens of each row (markers included)
 *   valid    [B·T']  true at real tokens, false at padding: valid[b·T' + t] = t &lt; lengths[b]
 * </pre>
 * A batch's arrays are reused by the next batch of the same T' (so hold no batch across calls).
 */
public final class SentenceBatcher implements dev.llmj.data.BatchSource<SentenceBatcher.SentenceBatch> {
    private final Sentences data;
    private final int batchSize;
    private final int contextLength;
    private final Rng rng;
    private final int pad, bos, eos; // bos and eos are -1 when not added
    private final int[] picked;
    private SentenceBatch batch;

    /** One batch of padded sentences (see the class comment for the layout). */
    public record SentenceBatch(int batchSize, int time, int[] inputIds, int[] lengths, boolean[] valid) {
        public int input(int b, int t) {
            return inputIds[b * time + t];
        }
    }

    public SentenceBatcher(Sentences data, int batchSize, int contextLength, long seed, boolean addSpecials) {
        this(data, batchSize, contextLength, new Rng(seed), addSpecials);
    }

    /** With a generator shared with the caller (an MLM batcher draws its masks from the same stream). */
    SentenceBatcher(Sentences data, int batchSize, int contextLength, Rng rng, boolean addSpecials) {
        Tokenizer tok = data.tokenizer();
        this.pad = Sentences.padId(tok);
        this.bos = addSpecials ? tok.specials().id(SpecialTokens.Role.BOS) : -1;
        this.eos = addSpecials ? tok.specials().id(SpecialTokens.Role.EOS) : -1;
        if (batchSize < 1) throw new LlmjException("batch size must be at least 1 (got " + batchSize + ")");
        int markers = (bos >= 0 ? 1 : 0) + (eos >= 0 ? 1 : 0);
        if (contextLength <= markers) {
            throw new LlmjException("context length " + contextLength + " leaves no room for a token beside the " + markers + " added special tokens");
        }
        if (data.size() == 0) {
            throw new LlmjException(data.source() + " holds no examples; use a larger corpus or a smaller validation fraction");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.contextLength = contextLength;
        this.rng = rng;
        this.picked = new int[batchSize];
    }

    /** The next batch: B examples at random. */
    public SentenceBatch next() {
        for (int b = 0; b < batchSize; b++) picked[b] = rng.nextInt(data.size());
        return batch(picked);
    }

    /** A batch of the given examples, in order (for evaluation over a whole split); draws nothing. */
    public SentenceBatch batch(int[] examples) {
        int n = examples.length, time = 0;
        int room = contextLength - (bos >= 0 ? 1 : 0) - (eos >= 0 ? 1 : 0); // sentence tokens a row can hold
        for (int i : examples) time = Math.max(time, Math.min(data.get(i).length, room));
        time += contextLength - room;
        SentenceBatch out = batch;
        if (out == null || out.batchSize() != n || out.time() != time) {
            out = batch = new SentenceBatch(n, time, new int[n * time], new int[n], new boolean[n * time]);
        }
        for (int b = 0; b < n; b++) {
            int[] ids = data.get(examples[b]);
            int o = b * time, len = 0;
            if (bos >= 0) out.inputIds()[o + len++] = bos;
            int keep = Math.min(ids.length, room);
            System.arraycopy(ids, 0, out.inputIds(), o + len, keep);
            len += keep;
            if (eos >= 0) out.inputIds()[o + len++] = eos;
            out.lengths()[b] = len;
            for (int t = 0; t < time; t++) {
                out.valid()[o + t] = t < len;
                if (t >= len) out.inputIds()[o + t] = pad;
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
