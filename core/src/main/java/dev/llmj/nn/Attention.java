package dev.llmj.nn;

import dev.llmj.tensor.Kernels;
import dev.llmj.tensor.Parallel;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head attention, with grouped-query attention when there are fewer k/v heads than q heads
 * (each k/v head serves nHeads / nKvHeads q heads) and, optionally, RoPE on q and k.
 * <pre>
 *   q = x·Wqᵀ [B·Tq, H·hd]   k, v = m·Wkᵀ, m·Wvᵀ [B·Tk, Hkv·hd]   (m = x: self-attention; m = memory: cross-attention)
 *   scores[t, s] = q_t · k_s / √hd;  −∞ where s is masked, so its weight is exactly 0:
 *     causal (a decoder): every s > t, the future;  a key mask: every padding key
 *   p = softmax(scores)   out_t = Σ_s p[t, s] · v_s   y = out·Woᵀ
 * </pre>
 * A query whose every key is masked (a source of padding only) gets weights of 0 and output Wo's bias.
 */
public final class Attention {
    public final int d, nHeads, nKvHeads, headDim;
    public final boolean causal; // a decoder's self-attention: query t sees keys s ≤ t only
    public final Linear q, k, v, o;
    private final Rope rope; // null unless positions are rotary
    private int batch, time, keyTime; // B, Tq, Tk of the last forward
    private boolean cross;            // whether the last forward's keys came from a memory
    private boolean[] keyValid;       // the last forward's key mask [B·Tk], or null
    private float[] qr, kr, vOut, probs, out, dMemory; // q and k (rotated, if RoPE), v, the weights, the heads' sums; ∂L/∂memory
    private Workspace ws = new Workspace(); // Kᵀ/Vᵀ per head, ∂L/∂scores, the backward's gradients: shared within a model (share)

    /** A decoder's causal self-attention. */
    public Attention(String name, int d, int nHeads, int nKvHeads, boolean bias, Rope rope) {
        this(name, d, nHeads, nKvHeads, bias, rope, true);
    }

    /** {@code causal}: false for an encoder's bidirectional attention and for cross-attention. */
    public Attention(String name, int d, int nHeads, int nKvHeads, boolean bias, Rope rope, boolean causal) {
        this.causal = causal;
        this.d = d;
        this.nHeads = nHeads;
        this.nKvHeads = nKvHeads;
        this.headDim = d / nHeads;
        this.q = new Linear(name + ".q", d, nHeads * headDim, bias);
        this.k = new Linear(name + ".k", d, nKvHeads * headDim, bias);
        this.v = new Linear(name + ".v", d, nKvHeads * headDim, bias);
        this.o = new Linear(name + ".o", nHeads * headDim, d, bias);
        this.rope = rope;
    }

    /** Self-attention, x [B·T, d] → y [B·T, d], every key valid (causal if this layer is). */
    public float[] forward(float[] x, int batch, int time) {
        return forward(x, null, batch, time, time, null);
    }

    /**
     * x [B·Tq, d] → y [B·Tq, d]. Keys and values come from {@code memory} [B·Tk, d] (cross-attention:
     * a decoder reading the encoder's output), or from x when memory is null (self-attention, Tk = Tq).
     * {@code keyValid} [B·Tk] marks real keys; padding keys (false) get weight exactly 0. Null: all real.
     */
    public float[] forward(float[] x, float[] memory, int batch, int time, int keyTime, boolean[] keyValid) {
        if (memory == null && keyTime != time) throw new IllegalArgumentException("self-attention has as many keys as queries");
        if (memory != null && rope != null) throw new IllegalArgumentException("RoPE rotates self-attention only");
        int rows = batch * time, keyRows = batch * keyTime, qd = nHeads * headDim, kd = nKvHeads * headDim;
        probs = Workspace.grow(probs, batch * nHeads * time * keyTime);
        out = Workspace.grow(out, rows * qd);
        this.batch = batch;
        this.time = time;
        this.keyTime = keyTime;
        this.cross = memory != null;
        this.keyValid = keyValid;
        float[] m = cross ? memory : x;
        qr = q.forward(x, rows);   // the projections' outputs, kept (and rotated in place): their backward needs only their input
        kr = k.forward(m, keyRows);
        vOut = v.forward(m, keyRows);
        if (rope != null) {
            rope.apply(qr, batch, time, nHeads, headDim, false);
            rope.apply(kr, batch, time, nKvHeads, headDim, false);
        }
        Parallel.forRange(batch * nHeads, 1, forwardHeads);
        return o.forward(out, rows);
    }

    // Each parallel region is a method bound once, reading its call's arrays from fields: a lambda
    // capturing them would be a new object at every call (a decoded token makes dozens of them).
    private final Parallel.RangeTask forwardHeads = this::forwardHeads, backwardHeads = this::backwardHeads,
            cachedHeads = this::cachedHeads, crossHeads = this::crossHeads;
    private float[] dOut, dqr, dkr, dv;                                 // training: the workspace's arrays during a call
    private float[] cq, cKeys, cValues, cOut, cScores;                  // decoding: q, the cache (or memory), the sums, the weights
    private int[] cRows, cStart;
    private boolean[] cValid;
    private int cNew, cCapacity;

    /** Scores, softmax and weighted sums of (batch row, head) pairs [from, to). */
    private void forwardHeads(int from, int to) {
        int qd = nHeads * headDim, kd = nKvHeads * headDim, group = nHeads / nKvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int stats = headDim * tRow();
        float[] headT = scratch(stats + 2 * BLOCK);                 // Kᵀ, then each block's row maxima and sums
        for (int bh = from; bh < to; bh++) {
            int b = bh / nHeads, h = bh % nHeads, kh = h / group;
            transposeHead(kr, headT, 0, b, kh, kd);              // Kᵀ [hd, Tk]: the scores' M, rows of contiguous keys
            int qo = b * time * qd + h * headDim, po = bh * time * keyTime, vo = b * keyTime * kd + kh * headDim;
            for (int r0 = 0; r0 < time; r0 += BLOCK) {           // a block of queries needs keys 0..r1-1 only when causal
                int r1 = Math.min(time, r0 + BLOCK), n1 = causal ? Math.min(keyTime, r1) : keyTime;
                Kernels.gemmBlock(probs, po, keyTime, qr, qo, qd, 1, headT, 0, tRow(), null, false, r0, r1, 0, wide(n1, keyTime), 0, headDim); // q_t · k_s
                softmaxRows(headT, stats, po, r0, r1, b, scale);
                Kernels.gemmBlock(out, qo, qd, probs, po, keyTime, 1, vOut, vo, kd, null, false, r0, r1, 0, headDim, 0, n1); // Σ_s p·v_s
            }
        }
    }

    /**
     * (sequence, head) tasks per chunk when each reads {@code pairs} (query, key) pairs: enough work per
     * chunk (about 32k multiply-adds) to pay for handing it to another thread. Decoding a small model
     * otherwise spends more time waking threads than attending (a 64-wide seq2seq ran 6× slower on 2).
     */
    private int grain(int pairs) {
        return Math.max(1, 16384 / Math.max(1, pairs * headDim));
    }

    /** How many keys query t may see before the key mask: t + 1 when causal, else all. */
    private int keys(int t) {
        return causal ? Math.min(t + 1, keyTime) : keyTime;
    }

    /**
     * The columns a block's scores (or ∂L/∂p) are computed over: its n1 keys rounded up to whole
     * pairs of vectors (within the row's {@code limit} keys), so that the product runs in the matmul's two-vector
     * tiles instead of its one-vector, masked ones for the last columns. The extra columns are future keys, which the
     * softmax (or its backward) then sets to exactly 0, as it sets every masked one.
     */
    private static int wide(int n1, int limit) {
        return Math.min(limit, (n1 + Kernels.TILE_COLUMNS - 1) / Kernels.TILE_COLUMNS * Kernels.TILE_COLUMNS);
    }

    /** Queries per block of the per-head products: a whole number of the matmul's 6-row tiles. */
    private static final int BLOCK = 24;

    /**
     * Rows t in [r0, r1) of the weights, in place at probs[po + t·Tk…]: scale the keys(t) scores each may see, −∞ at
     * padding keys, softmax; every other entry exactly 0 (the causal mask, and a row with no real key at all). Each
     * pass of {@link Softmax#row} goes over all the block's rows before the next ({@code stats[so…]} holds their maxima,
     * then sums), with the same bits: a row's passes wait on each other (max, then exponentials and their sum, then
     * 1/sum), and row by row they left the core waiting too, 66 ns a row in a small-t128 step.
     */
    private void softmaxRows(float[] stats, int so, int po, int r0, int r1, int b, float scale) {
        for (int t = r0; t < r1; t++) {
            int row = po + t * keyTime, n = keys(t);
            if (keyValid != null) for (int s = 0; s < n; s++) if (!keyValid[b * keyTime + s]) probs[row + s] = Float.NEGATIVE_INFINITY; // padding
            stats[so + t - r0] = Softmax.max(probs, row, n);
        }
        for (int t = r0; t < r1; t++) {
            float max = stats[so + t - r0];
            int row = po + t * keyTime;
            if (max != Float.NEGATIVE_INFINITY) stats[so + BLOCK + t - r0] = Softmax.expAndSum(probs, row, probs, row, keys(t), scale, max * scale);
        }
        for (int t = r0; t < r1; t++) {
            int row = po + t * keyTime, n = keys(t);
            if (stats[so + t - r0] == Float.NEGATIVE_INFINITY) java.util.Arrays.fill(probs, row, row + n, 0f); // no real key: weights of 0, not 0/0
            else Softmax.multiply(probs, row, n, 1f / stats[so + BLOCK + t - r0]);
            java.util.Arrays.fill(probs, row + n, row + keyTime, 0f);
        }
    }

    /**
     * New tokens per sequence up to which {@link #forwardCached} takes each query over its cached keys alone
     * (decoding); more (a prompt) go by blocks of queries, through products.
     */
    public static final int FEW_QUERIES = 8;

    /**
     * Inference with a KV cache. x [R·n, d] holds n new tokens for each of R sequences; sequence r
     * lives in cache row {@code rows[r]}, already holds {@code start[r]} tokens, and its new tokens
     * take the positions after them. Their k and v are written into the cache; each new query then
     * attends over its sequence's cached keys up to its own position (the causal mask, implicitly),
     * so a new token costs O(position), not a pass over the whole sequence.
     * keys, values: [cache rows, Hkv, capacity, hd]: each head's keys one after another, so that a new query reads them
     * as one stream (see {@link dev.llmj.model.KvCache}). Writes y [R·n, d] (every other array it needs is the workspace's).
     */
    public float[] forwardCached(float[] x, int seqs, int n, int[] rows, int[] start, float[] keys, float[] values, int capacity,
                                 float[] y, Workspace ws) {
        int count = seqs * n, qd = nHeads * headDim, kd = nKvHeads * headDim;
        float[] cq = ws.get(Workspace.Slot.Q, count * qd), kk = ws.get(Workspace.Slot.K, count * kd), vv = ws.get(Workspace.Slot.V, count * kd);
        Linear.forwardInferenceShared(x, count, q, cq, k, kk, v, vv); // one parallel region for the three
        float[] cOut = ws.get(Workspace.Slot.ATTENDED, count * qd), scores = ws.get(Workspace.Slot.SCORES, seqs * nHeads * capacity);
        for (int r = 0; r < seqs; r++) {
            for (int i = 0; i < n; i++) {
                int pos = start[r] + i, src = r * n + i;
                if (rope != null) {
                    rope.rotate(cq, src * qd, nHeads, pos, false);
                    rope.rotate(kk, src * kd, nKvHeads, pos, false);
                }
                for (int kh = 0; kh < nKvHeads; kh++) {
                    int dst = ((rows[r] * nKvHeads + kh) * capacity + pos) * headDim;
                    System.arraycopy(kk, src * kd + kh * headDim, keys, dst, headDim);
                    System.arraycopy(vv, src * kd + kh * headDim, values, dst, headDim);
                }
            }
        }
        int longest = 0;
        for (int r = 0; r < seqs; r++) longest = Math.max(longest, start[r] + n);
        setDecoding(cq, keys, values, cOut, scores, rows, start, null, n, capacity);
        Parallel.forRange(seqs * nHeads, grain(n * longest), cachedHeads);
        setDecoding(null, null, null, null, null, null, null, null, 0, 0);
        return o.forwardInference(cOut, count, y);
    }

    /** The arrays and sizes of a decoding call, for {@link #cachedHeads} and {@link #crossHeads}. */
    private void setDecoding(float[] q, float[] keys, float[] values, float[] out, float[] scores, int[] rows, int[] start, boolean[] valid,
                             int n, int capacity) {
        cq = q;
        cKeys = keys;
        cValues = values;
        cOut = out;
        cScores = scores;
        cRows = rows;
        cStart = start;
        cValid = valid;
        cNew = n;
        cCapacity = capacity;
    }

    /** (sequence, head) pairs [from, to) of {@link #forwardCached}: each new query over its cached keys. */
    private void cachedHeads(int from, int to) {
        int qd = nHeads * headDim, hd = headDim, group = nHeads / nKvHeads, n = cNew, capacity = cCapacity;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] cq = this.cq, keys = cKeys, values = cValues, cOut = this.cOut, scores = cScores;
        for (int rh = from; rh < to; rh++) {
            int r = rh / nHeads, h = rh % nHeads, kh = h / group;
            int base = (cRows[r] * nKvHeads + kh) * capacity * hd, p = rh * capacity; // this head's keys (and values): [capacity, hd] at base; its weights: scores[p…p+capacity)
            if (n > FEW_QUERIES) {
                promptHead(r, h, base, scale);
                continue;
            }
            for (int i = 0; i < n; i++) {
                int pos = cStart[r] + i, qo = (r * n + i) * qd + h * headDim;
                Kernels.dots(cq, qo, keys, base, hd, pos + 1, scores, p);
                Softmax.row(scores, p, pos + 1, scale);
                Kernels.weightedRows(scores, p, values, base, hd, pos + 1, cOut, qo);
            }
        }
    }

    /**
     * One (sequence, head) of a prompt (more than {@link #FEW_QUERIES} new tokens): as the training
     * forward does it, by blocks of queries, the scores as one product with the head's cached keys
     * transposed (Kᵀ [hd, keys], this thread's scratch), a softmax over each query's keys and zeros
     * after them, then the weighted sums as a product with the cached values, read in place.
     */
    private void promptHead(int r, int h, int base, float scale) {
        int qd = nHeads * headDim, n = cNew, start = cStart[r], len = start + n, kRow = len + PAD;
        float[] scratch = scratch(headDim * kRow + BLOCK * len);
        int po = headDim * kRow;                                 // the weights of a block of queries: scratch[po…), rows len apart
        for (int s = 0; s < len; s++) {
            for (int i = 0, ko = base + s * headDim; i < headDim; i++) scratch[i * kRow + s] = cKeys[ko + i]; // Kᵀ, rows kRow apart (tRow)
        }
        int qo = r * n * qd + h * headDim;
        for (int r0 = 0; r0 < n; r0 += BLOCK) {
            int r1 = Math.min(n, r0 + BLOCK), n1 = start + r1;
            Kernels.gemmBlock(scratch, po - r0 * len, len, cq, qo, qd, 1, scratch, 0, kRow, null, false, r0, r1, 0,
                    wide(n1, len), 0, headDim);
            for (int i = r0; i < r1; i++) {
                int w = po + (i - r0) * len, seen = start + i + 1;
                Softmax.row(scratch, w, seen, scale);
                java.util.Arrays.fill(scratch, w + seen, w + n1, 0f); // keys after the query: weight exactly 0
            }
            Kernels.gemmBlock(cOut, qo, qd, scratch, po - r0 * len, len, 1, cValues, base, headDim, null, false, r0, r1, 0, headDim, 0, n1);
        }
    }

    /**
     * This thread's scratch of at least n floats, grown as needed and kept: one head's Kᵀ or Vᵀ, and its
     * scores or their gradient, for the head tasks of training and of a prompt. One array a thread, used
     * head after head, stays in the core's cache; a region per (sequence, head) of arrays sized for the whole
     * batch (6.4 MB for small-t128) sent every head's writes out to L3 and its reads back.
     */
    private static float[] scratch(int n) {
        float[] a = SCRATCH.get();
        if (a.length < n) SCRATCH.set(a = new float[n]);
        return a;
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Decoding with cross-attention: the memory's keys and values [Tm, Hkv·hd] each, computed once
     * per source and then read by every step ({@link #forwardCross}). Fresh arrays, the caller's to keep.
     */
    public float[][] crossKeysValues(float[] memory, int memTime) {
        int kd = nKvHeads * headDim;
        return new float[][] {k.forwardInference(memory, memTime, new float[memTime * kd]),
                v.forwardInference(memory, memTime, new float[memTime * kd])};
    }

    /**
     * Cross-attention for decoding: x [R, d] holds one query per row, each attending over the same
     * source's keys and values from {@link #crossKeysValues} ([Tm, Hkv·hd]), padding keys
     * ({@code memValid} false; null: all real) at weight 0. Writes y [R, d]. The same weights as
     * {@link #forward} with a memory, without keeping anything for a backward.
     */
    public float[] forwardCross(float[] x, int count, float[] memKeys, float[] memValues, int memTime, boolean[] memValid,
                                float[] y, Workspace ws) {
        int qd = nHeads * headDim, kd = nKvHeads * headDim;
        float[] cq = q.forwardInference(x, count, ws.get(Workspace.Slot.Q, count * qd));
        float[] cOut = ws.get(Workspace.Slot.ATTENDED, count * qd), scores = ws.get(Workspace.Slot.SCORES, count * nHeads * memTime);
        setDecoding(cq, memKeys, memValues, cOut, scores, null, null, memValid, 1, memTime);
        Parallel.forRange(count * nHeads, grain(memTime), crossHeads);
        setDecoding(null, null, null, null, null, null, null, null, 0, 0);
        return o.forwardInference(cOut, count, y);
    }

    /** (row, head) pairs [from, to) of {@link #forwardCross}: each query over the source's Tm (= cCapacity) keys. */
    private void crossHeads(int from, int to) {
        int qd = nHeads * headDim, kd = nKvHeads * headDim, group = nHeads / nKvHeads, memTime = cCapacity;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] cq = this.cq, memKeys = cKeys, memValues = cValues, cOut = this.cOut, scores = cScores;
        boolean[] memValid = cValid;
        for (int rh = from; rh < to; rh++) {
            int r = rh / nHeads, h = rh % nHeads, kh = h / group, qo = r * qd + h * headDim, p = rh * memTime;
            for (int s = 0; s < memTime; s++) {
                scores[p + s] = memValid != null && !memValid[s] ? Float.NEGATIVE_INFINITY : Kernels.dot(cq, qo, memKeys, s * kd + kh * headDim, headDim);
            }
            java.util.Arrays.fill(cOut, qo, qo + headDim, 0f);
            if (!Softmax.row(scores, p, memTime, scale)) continue; // no real key: weights of 0, as in forward
            for (int s = 0; s < memTime; s++) if (scores[p + s] != 0f) Kernels.axpy(scores[p + s], memValues, s * kd + kh * headDim, cOut, qo, headDim);
        }
    }

    /**
     * dY → dX, accumulating the four projections' gradients. After a cross-attention forward, dX is
     * the queries' side only; the memory's ({@code k} and {@code v}'s) is {@link #memoryGrad}.
     */
    public float[] backward(float[] dy) {
        int qd = nHeads * headDim, kd = nKvHeads * headDim;
        float[] dOut = o.backward(dy);                 // [B·T, H·hd]
        int rows = batch * time, keyRows = batch * keyTime;
        float[] dqr = ws.get(Workspace.Slot.ATT_DQ, rows * qd), dkr = ws.get(Workspace.Slot.ATT_DK, keyRows * kd),
                dv = ws.get(Workspace.Slot.ATT_DV, keyRows * kd);
        this.dOut = dOut;
        this.dqr = dqr;
        this.dkr = dkr;
        this.dv = dv;
        // one task per (batch row, k/v head): the q heads sharing a k/v head add into the same dk, dv
        Parallel.forRange(batch * nKvHeads, 1, backwardHeads);
        this.dOut = this.dqr = this.dkr = this.dv = null;
        if (rope != null) {
            rope.apply(dqr, batch, time, nHeads, headDim, true); // a rotation's transpose is its inverse
            rope.apply(dkr, batch, time, nKvHeads, headDim, true);
        }
        float[] dx = q.backward(dqr);
        if (cross) { // k and v read the memory: their dX is its gradient
            dMemory = Workspace.grow(dMemory, keyRows * d);
            k.backward(dkr, dMemory, false);
            v.backward(dv, dMemory, true);
            return dx;
        }
        k.backward(dkr, dx, true); // x went into q, k and v: their dX add up in one array
        v.backward(dv, dx, true);
        return dx;
    }

    /** (batch row, k/v head) pairs [from, to) of {@link #backward}: ∂L/∂scores, then dv, dk and dq of their heads. */
    private void backwardHeads(int from, int to) {
        int qd = nHeads * headDim, kd = nKvHeads * headDim, group = nHeads / nKvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] dOut = this.dOut, dqr = this.dqr, dkr = this.dkr, dv = this.dv;
        float[] scratch = scratch(headDim * tRow() + time * keyTime), headT = scratch; // Vᵀ [hd, Tk] first, at 0
        int vt = 0, ds = headDim * tRow();                          // then scratch[ds…]: [Tq, Tk], ∂L/∂p, then ∂L/∂scores
        for (int bk = from; bk < to; bk++) {
            int b = bk / nKvHeads, kh = bk % nKvHeads;
            transposeHead(vOut, headT, vt, b, kh, kd);
            int ko = b * keyTime * kd + kh * headDim;
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                int bh = b * nHeads + h, qo = b * time * qd + h * headDim, po = bh * time * keyTime;
                // each block of dk and dv is one product over all its queries, so the group's first head overwrites it (its chains
                // start at 0) and the others add to it; each block of dq is one product. Zeroing the task's rows of all three up front
                // took 2% of a small-t128 step (384 rows of 128 bytes, 512 bytes apart, every line a miss); a product starts a block's chains
                // at 0 in its first k block (see Kernels.gemmBlock)
                boolean add = h > kh * group;
                // dv first: it needs only p, and brings p (written in the forward, megabytes ago) into this core's cache for
                // the softmax's backward below, which took 94 ns a row in a step against 27 in a harness with p at hand
                for (int s0 = 0; s0 < keyTime; s0 += BLOCK) {       // key s gets terms from queries t ≥ s only when causal
                    int s1 = Math.min(keyTime, s0 + BLOCK), t0 = causal ? s0 : 0;
                    Kernels.gemmBlock(dv, ko, kd, probs, po, 1, keyTime, dOut, qo, qd, null, add, s0, s1, 0, headDim, t0, time); // dv_s += Σ_t p·dout_t
                }
                for (int r0 = 0; r0 < time; r0 += BLOCK) {          // ∂L/∂p[t, s] = dout_t · v_s, then the softmax's backward
                    int r1 = Math.min(time, r0 + BLOCK), n1 = causal ? Math.min(keyTime, r1) : keyTime;
                    Kernels.gemmBlock(scratch, ds, keyTime, dOut, qo, qd, 1, headT, vt, tRow(), null, false, r0, r1, 0, wide(n1, keyTime), 0, headDim);
                    for (int t = r0; t < r1; t++) {
                        int n = keys(t), to_ = ds + t * keyTime, pt = po + t * keyTime;
                        Softmax.rowBackward(probs, pt, scratch, to_, n, scale); // then the 1/√hd
                        java.util.Arrays.fill(scratch, to_ + n, to_ + keyTime, 0f);
                    }
                }
                for (int s0 = 0; s0 < keyTime; s0 += BLOCK) {       // key s gets terms from queries t ≥ s only when causal
                    int s1 = Math.min(keyTime, s0 + BLOCK), t0 = causal ? s0 : 0;
                    Kernels.gemmBlock(dkr, ko, kd, scratch, ds, 1, keyTime, qr, qo, qd, null, add, s0, s1, 0, headDim, t0, time); // dk_s += Σ_t ds·q_t
                }
                for (int r0 = 0; r0 < time; r0 += BLOCK) {
                    int r1 = Math.min(time, r0 + BLOCK), n1 = causal ? Math.min(keyTime, r1) : keyTime;
                    Kernels.gemmBlock(dqr, qo, qd, scratch, ds, keyTime, 1, kr, ko, kd, null, false, r0, r1, 0, headDim, 0, n1); // dq_t = Σ_s ds·k_s
                }
            }
        }
    }

    /** After the backward of a cross-attention: ∂L/∂memory [B·Tk, d], through k and v. */
    public float[] memoryGrad() {
        return dMemory;
    }

    /** dst[at…] [hd, Tk] (rows {@link #tRow} apart) = one head's rows of src [B·Tk, Hkv·hd] for batch row b, transposed. */
    private void transposeHead(float[] src, float[] dst, int at, int b, int kh, int kd) {
        int row = tRow();
        for (int t = 0; t < keyTime; t++) {
            int so = (b * keyTime + t) * kd + kh * headDim;
            for (int i = 0; i < headDim; i++) dst[at + i * row + t] = src[so + i];
        }
    }

    /**
     * The row stride of a head's Kᵀ or Vᵀ: Tk and one cache line more. Rows a power of two apart
     * (128 or 256 keys: 512 B, 1 KB) all fall in a few of L1's sets, so the products streaming a
     * strip of those rows, and the transpose writing them, kept evicting each other's lines.
     */
    private int tRow() {
        return keyTime + PAD;
    }

    private static final int PAD = 16;

    /** The attention weights of the last forward, [B, H, Tq, Tk] in the array's first B·H·Tq·Tk values (row t: query t over the keys; causal: 0..t). */
    public float[] probs() {
        return probs;
    }

    /** Shares scratch, the backward's gradients, and its projections', with a model's other blocks. */
    public void share(Workspace ws) {
        this.ws = ws;
        q.share(ws, Workspace.Slot.ATT_DX);
        k.share(ws, null); // their dX goes into q's (or the memory's gradient)
        v.share(ws, null);
        o.share(ws, Workspace.Slot.ATT_D_OUT);
    }

    public List<Param> params() {
        List<Param> ps = new ArrayList<>();
        ps.addAll(q.params());
        ps.addAll(k.params());
        ps.addAll(v.params());
        ps.addAll(o.params());
        return ps;
    }
}
