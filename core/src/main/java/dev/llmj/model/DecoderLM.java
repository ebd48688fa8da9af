package dev.llmj.model;

import dev.llmj.data.Batcher;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Dropout;
import dev.llmj.nn.Embedding;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Norm;
import dev.llmj.nn.Param;
import dev.llmj.nn.Rope;
import dev.llmj.nn.Workspace;
import dev.llmj.tensor.Kernels;
import dev.llmj.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * A GPT: the tutorial's picture, one method per arrow.
 * <pre>
 *   ids [B, T] ─Embedding (+ positions)─▶ H [B·T, d] ─Block × N─▶ final Norm ─LM head─▶ logits [B·T, V]
 *   loss = mean −log softmax(logits)[label];  backward runs the same path in reverse
 * </pre>
 */
public final class DecoderLM implements Trainable<Batcher.Batch> {
    public final ModelConfig config;
    public final Embedding tokens;
    public final Embedding positions;     // learned positions, else null
    private final float[] sinusoid;       // [contextLength, d] for sinusoidal positions, else null
    public final List<Block> blocks = new ArrayList<>();
    public final Norm finalNorm;
    public final Linear head;             // [V, d]; tied: its weight is the token embedding's
    private final Dropout embedDrop;
    private final Rng rng;
    private int batch, time;
    private float[] h0, logits, dlogits, rowLoss;
    private int[] posIds;
    private final Workspace ws = new Workspace(); // scratch shared by the blocks: inference's activations, a backward's gradients
    private float[] cachedLogits;                  // [R, V] in its first R·V values: the KV-cache path's logits, each sequence's next token
    private int[] starts = new int[0];    // [R]: the KV-cache path's first new position of each sequence

    /** A model with GPT-2's random initialisation from {@code seed} (which also seeds dropout). */
    public DecoderLM(ModelConfig c, long seed) {
        this(c, seed, true);
    }

    /**
     * A model whose weight matrices are left at 0 (norms at 1) for a loader to fill: a large model's
     * random initialisation takes seconds that loading would throw away.
     */
    public static DecoderLM toLoad(ModelConfig c) {
        return new DecoderLM(c, 0, false);
    }

    private DecoderLM(ModelConfig c, long seed, boolean initialise) {
        c.validate();
        this.config = c;
        int d = c.dModel();
        tokens = new Embedding("tokens", c.vocabSize(), d);
        positions = c.position() == ModelConfig.Position.LEARNED ? new Embedding("positions", c.contextLength(), d) : null;
        sinusoid = c.position() == ModelConfig.Position.SINUSOIDAL ? sinusoidTable(c.contextLength(), d) : null;
        Rope rope = c.position() == ModelConfig.Position.ROPE ? new Rope(c.headDim(), c.contextLength(), c.ropeTheta()) : null;
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "layers." + l;
            blocks.add(new Block(
                    Norm.create(c.norm(), p + ".norm1", d, c.normEps(), c.bias()),
                    new Attention(p + ".attn", d, c.nHeads(), c.nKvHeads(), c.bias(), rope),
                    Norm.create(c.norm(), p + ".norm2", d, c.normEps(), c.bias()),
                    new Mlp(p + ".mlp", d, c.hiddenDim(), c.activation(), c.bias()),
                    c.dropout()));
        }
        finalNorm = Norm.create(c.norm(), "final_norm", d, c.normEps(), c.bias());
        head = c.tiedHead() ? Linear.tied(tokens.weight) : new Linear("head", d, c.vocabSize(), false);
        for (Block b : blocks) b.share(ws); // the final norm keeps its own dX: the last block reads it as its dH2
        head.share(ws, Workspace.Slot.HEAD_DX);
        embedDrop = new Dropout(c.dropout());
        rng = new Rng(seed);
        if (initialise) init(new Rng(seed ^ 0x5DEECE66DL));
    }

    /** PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(…). */
    static float[] sinusoidTable(int maxTime, int d) {
        float[] pe = new float[maxTime * d];
        for (int t = 0; t < maxTime; t++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = t / StrictMath.pow(10000.0, (2.0 * i) / d);
                pe[t * d + 2 * i] = (float) StrictMath.sin(angle);
                pe[t * d + 2 * i + 1] = (float) StrictMath.cos(angle);
            }
        }
        return pe;
    }

    /** GPT-2's initialisation: N(0, 0.02) for matrices and embeddings, residual projections scaled by 1/√(2N). */
    private void init(Rng r) {
        float std = 0.02f, residStd = (float) (0.02 / Math.sqrt(2.0 * config.nLayers()));
        for (Param p : params()) {
            if (p.shape.length < 2) continue; // norms start at 1 (or 0 for biases), set by their layers
            float s = p.name.endsWith(".o.weight") || p.name.endsWith(".proj.weight") || p.name.endsWith(".down.weight") ? residStd : std;
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * s);
        }
    }

    /** Every trainable parameter once, in a fixed order (a tied head adds nothing). */
    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>();
        ps.add(tokens.weight);
        if (positions != null) ps.add(positions.weight);
        for (Block b : blocks) ps.addAll(b.params());
        ps.addAll(finalNorm.params());
        if (!config.tiedHead()) ps.add(head.weight);
        return ps;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : params()) n += p.size();
        return n;
    }

    /**
     * ids [B·T] → logits [B·T, V]; {@code training} turns dropout on. The array is the model's own,
     * reused by the next call; after a larger batch it is longer than B·T·V, so read its first B·T·V values.
     */
    public float[] forward(int[] ids, int batch, int time, boolean training) {
        if (time > config.contextLength()) {
            throw new IllegalArgumentException("sequence of " + time + " tokens is longer than the context length " + config.contextLength());
        }
        int rows = batch * time, d = config.dModel();
        if (h0 == null || this.batch != batch || this.time != time) { // the arrays only grow (see Workspace)
            h0 = Workspace.grow(h0, rows * d);
            logits = Workspace.grow(logits, rows * config.vocabSize());
            dlogits = Workspace.grow(dlogits, rows * config.vocabSize());
            rowLoss = Workspace.grow(rowLoss, rows);
            posIds = Workspace.grow(posIds, rows);
            for (int r = 0; r < rows; r++) posIds[r] = r % time;
            this.batch = batch;
            this.time = time;
        }
        System.arraycopy(tokens.forward(ids, rows), 0, h0, 0, rows * d);
        if (positions != null) {
            float[] p = positions.forward(posIds, rows);
            for (int i = 0; i < rows * d; i++) h0[i] += p[i];
        } else if (sinusoid != null) {
            for (int r = 0; r < rows; r++) Kernels.axpy(1f, sinusoid, (r % time) * d, h0, r * d, d);
        }
        float[] h = embedDrop.forward(h0, rows * d, training, rng);
        for (Block b : blocks) h = b.forward(h, batch, time, training, rng);
        float[] hn = finalNorm.forward(h, rows);
        System.arraycopy(head.forward(hn, rows), 0, logits, 0, rows * config.vocabSize());
        return logits;
    }

    /**
     * Inference through a KV cache: n new tokens for each of R sequences, ids [R·n], sequence r in
     * cache row {@code rows[r]}, taking the positions after those the cache already holds. Appends
     * their keys and values to the cache and returns the logits of each sequence's last new token,
     * [R, V] in the first R·V values of the model's own array. A prompt goes in as one call with n = its
     * length (prefill; over {@link #prefillChunk} tokens, it runs in chunks inside, with the same bits);
     * each generated token then as a call with n = 1 (decode). The logits equal {@link #forward}'s over
     * the whole sequence to float rounding (the linear layers give the same bits; attention's kernels
     * differ). Its activations live in the model's {@link Workspace}, not in the layers, so it leaves a
     * training forward's state alone. Its products read each weight matrix packed in place for them
     * ({@link dev.llmj.nn.Param#packed}, done by the first call); weights written by hand through
     * {@link dev.llmj.nn.Param#value()} (which unpacks them) take effect at the next call.
     */
    public float[] forwardCached(int[] ids, int seqs, int n, int[] rows, KvCache cache) {
        for (int r = 0; r < seqs; r++) {
            if (cache.length(rows[r]) + n > cache.capacity) {
                throw new IllegalArgumentException("sequence of " + (cache.length(rows[r]) + n) + " tokens is longer than the context length " + cache.capacity);
            }
        }
        if (n <= prefillChunk) return forwardChunk(ids, seqs, n, rows, cache, true);
        // A long prompt goes in chunks of equal length (each over Attention.FEW_QUERIES tokens, so each takes the prompt's
        // kernels): a chunk's activations, not the whole prompt's, are what the workspace then holds (llama-110m with a
        // 768-token prompt peaked at 746 MB in one pass, over its bound of weights + KV cache + 20%). The bits are the
        // same as in one pass: every row's chains run in the same order whatever the number of rows beside it, and a
        // chunk's queries attend over the keys the cache holds by then, the earlier chunks'.
        int chunks = (n + prefillChunk - 1) / prefillChunk;
        float[] logits = null;
        for (int c = 0, from = 0; c < chunks; c++) {
            int to = (int) ((long) n * (c + 1) / chunks), len = to - from;
            if (chunkIds.length < seqs * len) chunkIds = new int[seqs * len];
            for (int r = 0; r < seqs; r++) System.arraycopy(ids, r * n + from, chunkIds, r * len, len);
            logits = forwardChunk(chunkIds, seqs, len, rows, cache, c == chunks - 1);
            from = to;
        }
        return logits;
    }

    /**
     * Packs now every weight matrix that {@link #forwardCached} reads ({@link Param#packed}), which its first call
     * would do otherwise (a rearrangement of every weight, in place): a
     * {@link dev.llmj.generate.Generator} does it when made, so that a prompt's time is its own.
     */
    public void packForInference() {
        for (Param p : params()) {
            if (p.shape.length == 2 && p != tokens.weight && (positions == null || p != positions.weight)) p.packed(); // the tables are looked up by row
        }
        head.weight.packed(); // the token table too, when the head is tied to it
    }

    /** Prompt tokens per pass of {@link #forwardCached}, at most (a field, so that a test can compare one pass with chunks). */
    int prefillChunk = 256;
    private int[] chunkIds = new int[0];

    /** {@link #forwardCached} of n tokens in one pass; the logits only when asked for (the last chunk of a prompt). */
    private float[] forwardChunk(int[] ids, int seqs, int n, int[] rows, KvCache cache, boolean logits) {
        int d = config.dModel(), count = seqs * n;
        if (starts.length < seqs) starts = new int[seqs];
        int[] start = starts;
        for (int r = 0; r < seqs; r++) start[r] = cache.length(rows[r]);
        float[] h = tokens.lookup(ids, count, ws.get(Workspace.Slot.STREAM_A, count * d)); // [R·n, d]
        for (int r = 0; r < seqs; r++) {
            for (int i = 0; i < n; i++) {
                int pos = start[r] + i, row = (r * n + i) * d;
                if (positions != null) Kernels.axpy(1f, positions.weight.value(), pos * d, h, row, d);
                else if (sinusoid != null) Kernels.axpy(1f, sinusoid, pos * d, h, row, d);
            }
        }
        for (int l = 0; l < blocks.size(); l++) { // each block reads one stream array and writes the other
            float[] next = ws.get(l % 2 == 0 ? Workspace.Slot.STREAM_B : Workspace.Slot.STREAM_A, count * d);
            h = blocks.get(l).forwardCached(h, seqs, n, rows, start, cache.keys[l], cache.values[l], cache.capacity, next, ws);
        }
        for (int r = 0; r < seqs; r++) cache.advance(rows[r], n);
        if (!logits) return null;
        float[] last = ws.get(Workspace.Slot.SUM, seqs * d); // only each sequence's last token needs logits (a norm is per row)
        for (int r = 0; r < seqs; r++) System.arraycopy(h, (r * n + n - 1) * d, last, r * d, d);
        float[] normed = finalNorm.apply(last, seqs, ws.get(Workspace.Slot.NORMED, seqs * d));
        cachedLogits = Workspace.grow(cachedLogits, seqs * config.vocabSize()); // grown, never shrunk: a batch's prompts go in one at a time
        return head.forwardInference(normed, seqs, cachedLogits);
    }

    /** A KV cache for {@code rows} sequences of up to the context length. */
    public KvCache newCache(int rows) {
        return new KvCache(config, rows);
    }

    /** The mean cross-entropy of the last forward's logits against {@code labels} [B·T]; prepares backward. */
    public float loss(int[] labels) {
        return CrossEntropy.forwardBackward(logits, labels, batch * time, config.vocabSize(), dlogits, rowLoss);
    }

    /** Next-token training: {@link #forward} on the batch's input ids, then {@link #loss} against its labels. */
    @Override
    public float forwardLoss(Batcher.Batch batch, boolean training) {
        forward(batch.inputIds(), batch.batchSize(), batch.contextLength(), training);
        return loss(batch.labels());
    }

    /** B·T: a window has no padding. */
    @Override
    public long tokens(Batcher.Batch batch) {
        return (long) batch.batchSize() * batch.contextLength();
    }

    /** Accumulates every parameter's gradient of the last {@link #loss}. */
    @Override
    public void backward() {
        int rows = batch * time, d = config.dModel();
        float[] dh = finalNorm.backward(head.backward(dlogits));
        for (int l = blocks.size() - 1; l >= 0; l--) dh = blocks.get(l).backward(dh);
        dh = embedDrop.backward(dh);
        tokens.backward(dh);
        if (positions != null) positions.backward(dh);
    }

    /** The dropout generator's state, for exact resumption. */
    @Override
    public Rng rng() {
        return rng;
    }

    /** The attention weights of layer {@code l} from the last forward, [B, H, T, T] in the array's first B·H·T·T values. */
    public float[] attentionWeights(int l) {
        return blocks.get(l).attn.probs();
    }

    /** The vector added to the token embedding at position {@code t}, [d]: learned or sinusoidal; null with RoPE (for inspection). */
    public float[] positionVector(int t) {
        int d = config.dModel();
        if (positions != null) return java.util.Arrays.copyOfRange(positions.weight.value(), t * d, (t + 1) * d);
        return sinusoid == null ? null : java.util.Arrays.copyOfRange(sinusoid, t * d, (t + 1) * d);
    }
}
