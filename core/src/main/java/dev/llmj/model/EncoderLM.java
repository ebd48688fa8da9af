package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.data.MlmBatcher;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Dropout;
import dev.llmj.nn.Embedding;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Param;
import dev.llmj.nn.Workspace;
import dev.llmj.tensor.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A BERT: a bidirectional encoder with the masked-language-model head, one method per arrow.
 * <pre>
 *   ids, segments [B, T] ─tokens + positions + segments─▶ LayerNorm ─dropout─▶ H [B·T, d]
 *     ─post-norm Block × N (bidirectional; padding keys masked)─▶ hidden [B·T, d]
 *     ─MLM head: dense d→d, activation, LayerNorm, · Eᵀ (tied to the token embedding) + bias─▶ logits [B·T, V]
 *   loss = mean −log softmax(logits)[label] over the labelled (masked) positions only
 * </pre>
 * Padding never reaches a real position: padded keys get attention weight 0 and everything else
 * works row by row, so a sentence's outputs do not change with how much padding its batch adds.
 */
public final class EncoderLM implements Trainable<MlmBatcher.MlmBatch> {
    /** How {@link #embed} turns token vectors into one sentence vector. */
    public enum Pooling {
        /** The mean of the last layer's vectors over the real tokens (the default: better sentence similarity untrained for it). */
        MEAN,
        /** The first token's vector: [CLS] (BERT's pooler input), or the first word when there is no [CLS]. */
        FIRST
    }

    public final EncoderConfig config;
    public final Embedding tokens, positions, segments;
    public final LayerNorm embedNorm;
    public final List<Block> blocks = new ArrayList<>();
    public final Linear transform;        // cls.predictions.transform.dense, [d, d]
    public final LayerNorm transformNorm; // cls.predictions.transform.LayerNorm
    public final Linear decoder;          // [V, d]: the token embedding's weight
    public final Param decoderBias;       // cls.predictions.bias, [V]
    private final Dropout embedDrop;
    private final Rng rng;
    private int batch, time;
    private float[] h0, hidden, pre, act, dact, logits, dlogits, rowLoss;
    private int[] posIds, segIds;

    public EncoderLM(EncoderConfig c, long seed) {
        c.validate();
        this.config = c;
        int d = c.dModel();
        tokens = new Embedding("embeddings.tokens", c.vocabSize(), d);
        positions = new Embedding("embeddings.positions", c.contextLength(), d);
        segments = new Embedding("embeddings.segments", c.typeVocabSize(), d);
        embedNorm = new LayerNorm("embeddings.norm", d, c.normEps(), true);
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "layers." + l;
            blocks.add(new Block(new LayerNorm(p + ".norm1", d, c.normEps(), true),
                    new Attention(p + ".attn", d, c.nHeads(), c.nHeads(), true, null, false), null, null,
                    new LayerNorm(p + ".norm2", d, c.normEps(), true),
                    new Mlp(p + ".mlp", d, c.hiddenDim(), c.activation(), true), c.dropout(), true));
        }
        Workspace ws = new Workspace();      // the blocks' backward gradients and scratch, one block's worth
        for (Block b : blocks) b.share(ws);
        transform = new Linear("mlm.dense", d, d, true);
        transformNorm = new LayerNorm("mlm.norm", d, c.normEps(), true);
        decoder = Linear.tied(tokens.weight);
        decoderBias = new Param("mlm.bias", false, c.vocabSize());
        embedDrop = new Dropout(c.dropout());
        rng = new Rng(seed);
        init(new Rng(seed ^ 0x5DEECE66DL));
    }

    /** BERT's initialisation: N(0, 0.02) for every matrix and embedding; LayerNorms 1 and 0, biases 0 (set by their layers). */
    private void init(Rng r) {
        for (Param p : params()) {
            if (p.shape.length < 2) continue;
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.02);
        }
    }

    /** Every trainable parameter once, in a fixed order (the tied decoder adds nothing). */
    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>();
        ps.add(tokens.weight);
        ps.add(positions.weight);
        ps.add(segments.weight);
        ps.addAll(embedNorm.params());
        for (Block b : blocks) ps.addAll(b.params());
        ps.addAll(transform.params());
        ps.addAll(transformNorm.params());
        ps.add(decoderBias);
        return ps;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : params()) n += p.size();
        return n;
    }

    /**
     * ids [B·T] → MLM logits [B·T, V] (the model's own array, reused; its first B·T·V values). {@code segments} [B·T] are the token types (null: all 0);
     * {@code valid} [B·T] marks real tokens, false at padding (null: all real). Logits at padded
     * positions are computed but mean nothing. {@code training} turns dropout on.
     */
    public float[] forward(int[] ids, int[] segments, boolean[] valid, int batch, int time, boolean training) {
        encode(ids, segments, valid, batch, time, training);
        int rows = batch * time, d = config.dModel(), vocab = config.vocabSize();
        float[] t = transform.forward(hidden, rows);                                     // [B·T, d]
        config.activation().forward(t, act, dact, rows * d);
        float[] hn = transformNorm.forward(act, rows);
        System.arraycopy(decoder.forward(hn, rows), 0, logits, 0, rows * vocab);         // · Eᵀ
        float[] bias = decoderBias.value();
        for (int r = 0; r < rows; r++) for (int v = 0; v < vocab; v++) logits[r * vocab + v] += bias[v];
        return logits;
    }

    /** The encoder without the MLM head: ids [B·T] → the last layer's output [B·T, d] (see {@link #hidden}). */
    public float[] encode(int[] ids, int[] segments, boolean[] valid, int batch, int time, boolean training) {
        if (time > config.contextLength()) {
            throw new LlmjException("a sequence of " + time + " tokens is longer than the context length " + config.contextLength());
        }
        int rows = batch * time, d = config.dModel();
        if (h0 == null || this.batch != batch || this.time != time) { // the arrays only grow (see Workspace)
            h0 = Workspace.grow(h0, rows * d);
            act = Workspace.grow(act, rows * d);
            dact = Workspace.grow(dact, rows * d);
            logits = Workspace.grow(logits, rows * config.vocabSize());
            dlogits = Workspace.grow(dlogits, rows * config.vocabSize());
            rowLoss = Workspace.grow(rowLoss, rows);
            posIds = Workspace.grow(posIds, rows);
            segIds = Workspace.grow(segIds, rows); // all 0, never written
            for (int r = 0; r < rows; r++) posIds[r] = r % time;
            this.batch = batch;
            this.time = time;
        }
        if (segments != null) {
            for (int r = 0; r < rows; r++) {
                if (segments[r] < 0 || segments[r] >= config.typeVocabSize()) {
                    throw new LlmjException("segment " + segments[r] + " outside [0, " + config.typeVocabSize() + ")");
                }
            }
        }
        int[] seg = segments == null ? segIds : segments; // segIds stays all 0
        System.arraycopy(tokens.forward(ids, rows), 0, h0, 0, rows * d);
        float[] p = positions.forward(posIds, rows), s = this.segments.forward(seg, rows);
        for (int i = 0; i < rows * d; i++) h0[i] += p[i] + s[i];
        float[] h = embedDrop.forward(embedNorm.forward(h0, rows), rows * d, training, rng);
        for (Block b : blocks) h = b.forward(h, batch, time, valid, null, 0, null, training, rng);
        hidden = h;
        return h;
    }

    /** The last layer's output of the last forward, [B·T, d] in the array's first B·T·d values: one contextual vector per token. */
    public float[] hidden() {
        return hidden;
    }

    /** The mean cross-entropy of the last forward's logits at the labelled positions (the rest {@link CrossEntropy#IGNORE}); prepares backward. */
    public float loss(int[] labels) {
        return CrossEntropy.forwardBackward(logits, labels, batch * time, config.vocabSize(), dlogits, rowLoss);
    }

    /** Forward on an MLM batch (segment 0 everywhere, padding masked) and the loss at its chosen positions. */
    @Override
    public float forwardLoss(MlmBatcher.MlmBatch b, boolean training) {
        forward(b.inputIds(), null, b.valid(), b.batchSize(), b.time(), training);
        return loss(b.labels());
    }

    /** The sentences' real tokens, markers included, padding not. */
    @Override
    public long tokens(MlmBatcher.MlmBatch b) {
        long n = 0;
        for (boolean v : b.valid()) if (v) n++;
        return n;
    }

    /** Accumulates every parameter's gradient of the last {@link #loss}. */
    @Override
    public void backward() {
        int rows = batch * time, d = config.dModel(), vocab = config.vocabSize();
        float[] db = decoderBias.grad();
        for (int r = 0; r < rows; r++) for (int v = 0; v < vocab; v++) db[v] += dlogits[r * vocab + v];
        float[] g = transformNorm.backward(decoder.backward(dlogits));  // the tied decoder adds into tokens.weight.grad()
        for (int i = 0; i < rows * d; i++) dact[i] *= g[i];              // dact becomes ∂L/∂(dense output)
        float[] dh = transform.backward(dact);
        for (int l = blocks.size() - 1; l >= 0; l--) dh = blocks.get(l).backward(dh);
        dh = embedNorm.backward(embedDrop.backward(dh));
        tokens.backward(dh);
        positions.backward(dh);
        segments.backward(dh);
    }

    /** The dropout generator's state, for exact resumption. */
    @Override
    public Rng rng() {
        return rng;
    }

    /** The attention weights of layer {@code l} from the last forward, [B, H, T, T] in the array's first B·H·T·T values (weight 0 on padded keys). */
    public float[] attentionWeights(int l) {
        return blocks.get(l).attn.probs();
    }

    /**
     * One sentence vector [d] for {@code ids} (all real tokens, segment 0, no dropout): the mean of
     * the last layer's token vectors ({@link Pooling#MEAN}), or the first token's ({@link Pooling#FIRST},
     * [CLS] when the ids start with it). The vector is the raw hidden state, not normalised; compare
     * two with the cosine.
     */
    public float[] embed(int[] ids, Pooling pooling) {
        if (ids.length == 0) throw new LlmjException("cannot embed an empty text");
        int d = config.dModel();
        float[] h = encode(ids, null, null, 1, ids.length, false);
        if (pooling == Pooling.FIRST) return Arrays.copyOf(h, d);
        float[] out = new float[d];
        for (int t = 0; t < ids.length; t++) for (int i = 0; i < d; i++) out[i] += h[t * d + i];
        for (int i = 0; i < d; i++) out[i] /= ids.length;
        return out;
    }

    /** The cosine of two vectors, in [−1, 1] (0 if either is all zeros). */
    public static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }
}
