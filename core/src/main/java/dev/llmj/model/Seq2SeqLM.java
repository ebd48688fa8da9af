package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.data.PairBatcher;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Dropout;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Norm;
import dev.llmj.nn.Param;
import dev.llmj.nn.Workspace;
import dev.llmj.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * The encoder–decoder of "Attention Is All You Need": torch.nn.Transformer wrapped the Annotated
 * Transformer's way, one method per arrow.
 * <pre>
 *   src [B, Ts] ─E·√d + PE─▶ dropout ─encoder Block × N (bidirectional, source padding masked)─▶ encoder norm ─▶ memory M [B·Ts, d]
 *   tgt [B, Tt] ─E·√d + PE─▶ dropout ─decoder Block × M (causal self-attention, target padding masked;
 *                                      cross-attention to M, source padding masked; MLP)─▶ decoder norm
 *              ─generator (Linear with bias)─▶ logits [B·Tt, V];  loss = mean −log softmax(logits)[label ≠ IGNORE]
 * </pre>
 * E is one table for source and target. Backward runs the decoder, adds every decoder block's
 * ∂L/∂M, then runs the encoder norm, the encoder and the embedding. Initialisation is nn.Transformer's:
 * Xavier-uniform for every matrix (q, k, v counted as the stacked [3d, d] in_proj, as PyTorch holds
 * them; the embedding too, as the Annotated Transformer does), zero biases, unit norm gains.
 */
public final class Seq2SeqLM implements Trainable<PairBatcher.PairBatch> {
    public final Seq2SeqConfig config;
    public final Param embedding;          // [V, d], source and target
    public final Param positions;          // [context, d] learned positions, else null
    private final float[] sinusoid;        // [context, d] sinusoidal positions, else null
    public final List<Block> encoder = new ArrayList<>(), decoder = new ArrayList<>();
    public final Norm encoderNorm, decoderNorm;
    public final Linear generator;         // [V, d] with bias
    private final Dropout srcDrop, tgtDrop;
    private final Rng rng;
    private final float scale;             // √d
    private int batch, srcTime, tgtTime;
    private int[] srcIds, tgtIds;
    private boolean[] srcValid;
    private float[] srcEmb, tgtEmb, memory, logits, dlogits, rowLoss, dMemory, stepEmb;
    private int[] stepRows = new int[0], stepStart = new int[0];
    private float[] stepLogits;                   // [R, V]: a decoding step's logits
    private final Workspace ws = new Workspace(); // the decoder blocks' scratch: decoding's activations, a backward's gradients

    public Seq2SeqLM(Seq2SeqConfig c, long seed) {
        c.validate();
        this.config = c;
        int d = c.dModel(), h = c.nHeads();
        embedding = new Param("embedding.weight", false, c.vocabSize(), d);
        positions = c.position() == ModelConfig.Position.LEARNED ? new Param("positions.weight", false, c.contextLength(), d) : null;
        sinusoid = c.position() == ModelConfig.Position.SINUSOIDAL ? DecoderLM.sinusoidTable(c.contextLength(), d) : null;
        boolean post = !c.normFirst();
        for (int l = 0; l < c.encoderLayers(); l++) {
            String p = "encoder.layers." + l;
            encoder.add(new Block(norm(p + ".norm1"), new Attention(p + ".self_attn", d, h, h, true, null, false), null, null,
                    norm(p + ".norm2"), new Mlp(p, d, c.hiddenDim(), c.activation(), true), c.dropout(), post));
        }
        for (int l = 0; l < c.decoderLayers(); l++) {
            String p = "decoder.layers." + l; // PyTorch's norm2 is the cross-attention's, norm3 the MLP's
            decoder.add(new Block(norm(p + ".norm1"), new Attention(p + ".self_attn", d, h, h, true, null, true),
                    norm(p + ".norm2"), new Attention(p + ".multihead_attn", d, h, h, true, null, false),
                    norm(p + ".norm3"), new Mlp(p, d, c.hiddenDim(), c.activation(), true), c.dropout(), post));
        }
        encoderNorm = norm("encoder.norm");
        decoderNorm = norm("decoder.norm");
        generator = new Linear("generator", d, c.vocabSize(), true);
        Workspace encoderWs = new Workspace(); // the encoder's rows (source) differ from the decoder's (target): a workspace each
        for (Block b : encoder) b.share(encoderWs);
        Workspace crossWs = new Workspace();   // and the cross-attentions' keys are source rows among target rows
        for (Block b : decoder) b.share(ws, crossWs);
        generator.share(ws, Workspace.Slot.HEAD_DX);
        srcDrop = new Dropout(c.dropout());
        tgtDrop = new Dropout(c.dropout());
        scale = (float) Math.sqrt(d);
        rng = new Rng(seed);
        init(new Rng(seed ^ 0x5DEECE66DL));
    }

    private Norm norm(String name) {
        return new LayerNorm(name, config.dModel(), config.normEps(), true);
    }

    /** Xavier-uniform: U(−a, a), a = √(6 / (fan_in + fan_out)); q, k, v as one [3d, d] matrix, as nn.MultiheadAttention's in_proj. */
    private void init(Rng r) {
        for (Param p : params()) {
            if (p.shape.length < 2) continue; // biases stay 0 and norm gains 1, set by their layers
            boolean inProj = p.name.endsWith(".q.weight") || p.name.endsWith(".k.weight") || p.name.endsWith(".v.weight");
            double a = Math.sqrt(6.0 / (p.shape[1] + (inProj ? 3 : 1) * p.shape[0]));
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * r.nextDouble() - 1) * a);
        }
    }

    /** Every trainable parameter once, in a fixed order. */
    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>();
        ps.add(embedding);
        if (positions != null) ps.add(positions);
        for (Block b : encoder) ps.addAll(b.params());
        ps.addAll(encoderNorm.params());
        for (Block b : decoder) ps.addAll(b.params());
        ps.addAll(decoderNorm.params());
        ps.addAll(generator.params());
        return ps;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : params()) n += p.size();
        return n;
    }

    /** out [R, d] = E[ids]·√d + PE[position]; row r of a [B, T] batch sits at position r mod T. */
    private void embed(int[] ids, int rows, int time, float[] out) {
        for (int r = 0; r < rows; r++) embedRow(ids[r], r % time, out, r * config.dModel());
    }

    /** out[at .. at+d) = E[id]·√d + PE[pos]. */
    private void embedRow(int id, int pos, float[] out, int at) {
        int d = config.dModel();
        if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("id " + id + " outside the vocabulary [0, " + config.vocabSize() + ")");
        float[] pe = positions != null ? positions.value() : sinusoid;
        for (int i = 0; i < d; i++) out[at + i] = embedding.value()[id * d + i] * scale + pe[pos * d + i];
    }

    /** The embedding's backward: dE[id] += dH·√d at each row, dPE[position] += dH when learned. */
    private void embedBackward(float[] dh, int[] ids, int rows, int time) {
        int d = config.dModel();
        float[] ge = embedding.grad(), gp = positions != null ? positions.grad() : null;
        for (int r = 0; r < rows; r++) {
            int o = ids[r] * d;
            for (int i = 0; i < d; i++) ge[o + i] += dh[r * d + i] * scale;
            if (gp != null) for (int i = 0; i < d; i++) gp[(r % time) * d + i] += dh[r * d + i];
        }
    }

    private void checkLength(String side, int time) {
        if (time > config.contextLength()) {
            throw new LlmjException("a " + side + " of " + time + " tokens is longer than the model's context length " + config.contextLength());
        }
    }

    /**
     * Teacher forcing: src [B·Ts] with {@code srcValid} [B·Ts] (null: all real), tgtIn [B·Tt] (&lt;bos&gt; + target)
     * with {@code tgtValid} → logits [B·Tt, V] (the model's own array, reused; its first B·Tt·V values);
     * {@code training} turns dropout on.
     */
    public float[] forward(int[] src, boolean[] srcValid, int batch, int srcTime, int[] tgtIn, boolean[] tgtValid, int tgtTime, boolean training) {
        return decode(tgtIn, tgtValid, tgtTime, encode(src, srcValid, batch, srcTime, training), training);
    }

    /** src [B·Ts] → the memory [B·Ts, d], after the encoder's final norm. */
    public float[] encode(int[] src, boolean[] srcValid, int batch, int srcTime, boolean training) {
        checkLength("source", srcTime);
        int rows = batch * srcTime, d = config.dModel();
        srcEmb = Workspace.grow(srcEmb, rows * d); // the arrays only grow (see Workspace)
        dMemory = Workspace.grow(dMemory, rows * d);
        this.batch = batch;
        this.srcTime = srcTime;
        this.srcIds = src;
        this.srcValid = srcValid;
        embed(src, rows, srcTime, srcEmb);
        float[] h = srcDrop.forward(srcEmb, rows * d, training, rng);
        for (Block b : encoder) h = b.forward(h, batch, srcTime, srcValid, null, 0, null, training, rng);
        return memory = encoderNorm.forward(h, rows);
    }

    /** tgtIn [B·Tt] → logits [B·Tt, V], reading the memory of the last {@link #encode} (same batch). */
    private float[] decode(int[] tgtIn, boolean[] tgtValid, int tgtTime, float[] memory, boolean training) {
        checkLength("target", tgtTime);
        int rows = batch * tgtTime, d = config.dModel(), v = config.vocabSize();
        tgtEmb = Workspace.grow(tgtEmb, rows * d);
        logits = Workspace.grow(logits, rows * v);
        dlogits = Workspace.grow(dlogits, rows * v);
        rowLoss = Workspace.grow(rowLoss, rows);
        this.tgtTime = tgtTime;
        this.tgtIds = tgtIn;
        embed(tgtIn, rows, tgtTime, tgtEmb);
        float[] h = tgtDrop.forward(tgtEmb, rows * d, training, rng);
        for (Block b : decoder) h = b.forward(h, batch, tgtTime, tgtValid, memory, srcTime, srcValid, training, rng);
        System.arraycopy(generator.forward(decoderNorm.forward(h, rows), rows), 0, logits, 0, rows * v);
        return logits;
    }

    /** Teacher forcing on a batch of pairs: the mean cross-entropy over its labelled target positions. */
    @Override
    public float forwardLoss(PairBatcher.PairBatch b, boolean training) {
        forward(b.srcIds(), b.srcValid(), b.batchSize(), b.srcTime(), b.tgtIn(), b.tgtValid(), b.tgtTime(), training);
        return loss(b.labels());
    }

    /** The real source tokens plus the real target inputs, padding not counted. */
    @Override
    public long tokens(PairBatcher.PairBatch b) {
        long n = 0;
        for (boolean v : b.srcValid()) if (v) n++;
        for (boolean v : b.tgtValid()) if (v) n++;
        return n;
    }

    /** The mean cross-entropy of the last forward's logits against {@code labels} [B·Tt] (IGNORE at padding); prepares backward. */
    public float loss(int[] labels) {
        return CrossEntropy.forwardBackward(logits, labels, batch * tgtTime, config.vocabSize(), dlogits, rowLoss);
    }

    /** Accumulates every parameter's gradient of the last {@link #loss}: the decoder, then through ∂L/∂M the encoder, and the shared embedding. */
    @Override
    public void backward() {
        float[] dh = decoderNorm.backward(generator.backward(dlogits));
        int memSize = batch * srcTime * config.dModel();
        java.util.Arrays.fill(dMemory, 0, memSize, 0f);
        for (int l = decoder.size() - 1; l >= 0; l--) {
            dh = decoder.get(l).backward(dh);
            float[] dm = decoder.get(l).memoryGrad(); // every decoder block reads the same memory: their gradients add
            for (int i = 0; i < memSize; i++) dMemory[i] += dm[i];
        }
        embedBackward(tgtDrop.backward(dh), tgtIds, batch * tgtTime, tgtTime);
        dh = encoderNorm.backward(dMemory);
        for (int l = encoder.size() - 1; l >= 0; l--) dh = encoder.get(l).backward(dh);
        embedBackward(srcDrop.backward(dh), srcIds, batch * srcTime, srcTime);
    }

    /** The dropout generator's state, for exact resumption. */
    @Override
    public Rng rng() {
        return rng;
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Encodes one source (ids [Ts], every one real) and computes each decoder block's cross-attention
     * keys and values of it once; the returned cache holds {@code rows} target rows (beams), empty.
     */
    public Seq2SeqCache startDecoding(int[] src, int rows) {
        if (src.length == 0) throw new LlmjException("the source is empty");
        float[] mem = encode(src, null, 1, src.length, false);
        int layers = decoder.size();
        float[][] mk = new float[layers][], mv = new float[layers][];
        for (int l = 0; l < layers; l++) {
            float[][] kv = decoder.get(l).cross.crossKeysValues(mem, src.length);
            mk[l] = kv[0];
            mv[l] = kv[1];
        }
        return new Seq2SeqCache(layers, rows, config.contextLength(), config.dModel(), config.nHeads(), src.length, mk, mv, null);
    }

    /**
     * One decoding step: row r (of 0..R−1) of the cache takes token {@code tokens[r]} at its next
     * position; returns the logits of the next token for each row, [R, V]. Equal to the teacher-forced
     * {@link #forward}'s logits at the same positions, to float rounding.
     */
    public float[] decodeStep(int[] tokens, int seqs, Seq2SeqCache cache) {
        int d = config.dModel();
        if (stepRows.length != seqs) {
            stepRows = new int[seqs];
            stepStart = new int[seqs];
            stepEmb = new float[seqs * d];
            for (int r = 0; r < seqs; r++) stepRows[r] = r;
        }
        for (int r = 0; r < seqs; r++) {
            stepStart[r] = cache.length(r);
            checkLength("target", stepStart[r] + 1);
        }
        for (int r = 0; r < seqs; r++) embedRow(tokens[r], stepStart[r], stepEmb, r * d);
        float[] h = stepEmb;
        for (int l = 0; l < decoder.size(); l++) { // each block reads one stream array and writes the other
            float[] next = ws.get(l % 2 == 0 ? Workspace.Slot.STREAM_B : Workspace.Slot.STREAM_A, seqs * d);
            h = decoder.get(l).forwardCachedCross(h, seqs, 1, stepRows, stepStart, cache.keys[l], cache.values[l], cache.capacity,
                    cache.memKeys[l], cache.memValues[l], cache.memTime, cache.memValid, next, ws);
        }
        for (int r = 0; r < seqs; r++) cache.advance(r, 1);
        if (stepLogits == null || stepLogits.length != seqs * config.vocabSize()) stepLogits = new float[seqs * config.vocabSize()];
        return generator.forwardInference(decoderNorm.apply(h, seqs, ws.get(Workspace.Slot.NORMED, seqs * d)), seqs, stepLogits);
    }
}
