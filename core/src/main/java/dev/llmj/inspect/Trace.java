package dev.llmj.inspect;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Activation;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Rope;
import dev.llmj.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One token followed through one layer, every intermediate value kept. The layer is recomputed
 * here in plain loops from the model's own layer objects, so a reader can follow each step:
 * <pre>
 *   H  = tok_emb[ids] + pos_emb                       [B×T×d]   (or the output of the layers below)
 *   X  = norm1(H);  q, k, v = X·Wqᵀ, X·Wkᵀ, X·Wvᵀ      [B×H×T×hd] once split into heads
 *   S  = q·kᵀ/√hd, −∞ where s > t (the causal mask)   [B×H×T×T]
 *   P  = softmax(S) over s;  O = P·v                  [B×H×T×hd] → heads joined [B×T×d]
 *   H1 = H + O·Woᵀ;  H2 = H1 + Mlp(norm2(H1))         [B×T×d]
 *   … the layers above, the final norm, logits = Hn·Wᵀ [B×T×V]
 * </pre>
 * Because it is a second computation, it checks itself: {@link #maxWeightDiff} and
 * {@link #maxLogitDiff} compare its attention weights and logits with the model's real forward.
 * Every vector field is the value at the traced query position only.
 */
public final class Trace {
    public final ModelConfig config;
    public final int[] ids;
    public final List<String> tokens;
    /** The layer traced and the query position t followed through it. */
    public final int layer, position;
    /** tok_emb[id_t] and the position vector added to it, [d] (null with RoPE); the layer's input H[t], [d]. */
    public final float[] tokenEmbedding, positionEmbedding, input;
    /** norm1(H)[t], [d]. */
    public final float[] norm1;
    /** Per q head, [H][hd] (after RoPE when the model uses it); k and v per k/v head at position t, [Hkv][hd]. */
    public final float[][] q, k, v;
    /** Per q head, over every key s: q·k_s/√hd for s ≤ t, −∞ for s > t (masked), [H][T]. */
    public final float[][] scores;
    /** softmax of {@link #scores}: [H][T], exactly 0 for s > t. */
    public final float[][] weights;
    /** Per q head, Σ_s P[t, s]·v_s, [H][hd]. */
    public final float[][] headOut;
    /** O·Woᵀ (+ b), H1 = H + that, norm2(H1), the MLP's hidden activation [hidden], its output, H2 = H1 + MLP: all [d] but hidden. */
    public final float[] attnOut, residual1, norm2, mlpHidden, mlpOut, output;
    /** The logits at position t, [V], and the five likeliest next tokens they give. */
    public final float[] logits;
    public final List<Explanation.Candidate> top;
    /** max |difference| from the model's real forward: over the traced layer's whole [H, T, T] weights, and over all logits [T, V]. */
    public final float maxWeightDiff, maxLogitDiff;

    /** Follows {@code text}'s token at {@code position} (−1: the last) through {@code layer}. */
    public static Trace of(DecoderLM model, Tokenizer tok, String text, int layer, int position) {
        int[] ids = tok.encode(text);
        if (ids.length == 0) throw new LlmjException("the text tokenizes to nothing: give some non-empty text");
        return of(model, tok, ids, layer, position < 0 ? ids.length - 1 : position);
    }

    /** Follows token {@code position} of {@code ids} through {@code layer}. */
    public static Trace of(DecoderLM model, Tokenizer tok, int[] ids, int layer, int position) {
        ModelConfig c = model.config;
        if (layer < 0 || layer >= c.nLayers()) throw new LlmjException("there is no layer " + layer + ": the model has layers 0.." + (c.nLayers() - 1));
        if (position < 0 || position >= ids.length) {
            throw new LlmjException("there is no position " + position + ": the text has positions 0.." + (ids.length - 1));
        }
        if (ids.length > c.contextLength()) {
            throw new LlmjException("the text is " + ids.length + " tokens but the model reads at most " + c.contextLength() + " (its context length); shorten it");
        }
        return new Trace(model, tok, ids.clone(), layer, position);
    }

    private Trace(DecoderLM model, Tokenizer tok, int[] ids, int layer, int pt) {
        ModelConfig c = this.config = model.config;
        this.ids = ids;
        List<String> labels = new ArrayList<>();
        for (int id : ids) labels.add(TokenText.visible(tok, id));
        this.tokens = List.copyOf(labels);
        this.layer = layer;
        this.position = pt;
        int time = ids.length, d = c.dModel(), nh = c.nHeads(), nkv = c.nKvHeads(), hd = c.headDim(), vocab = c.vocabSize();
        // the model's own forward first, to check the recomputation against
        float[] realLogits = model.forward(ids, 1, time, false).clone();   // [T, V]
        float[] realWeights = model.attentionWeights(layer).clone();         // [1, H, T, T]

        // H: token embedding + position vector, then the layers below, run as the model runs them
        float[] h = new float[time * d];
        for (int t = 0; t < time; t++) {
            System.arraycopy(model.tokens.weight.value(), ids[t] * d, h, t * d, d);
            float[] pos = model.positionVector(t);
            if (pos != null) for (int i = 0; i < d; i++) h[t * d + i] += pos[i];
        }
        tokenEmbedding = Arrays.copyOfRange(model.tokens.weight.value(), ids[pt] * d, (ids[pt] + 1) * d);
        positionEmbedding = model.positionVector(pt);
        for (int l = 0; l < layer; l++) h = model.blocks.get(l).forward(h, 1, time, false, null).clone();

        // the traced layer, step by step, for every position (later layers need them all as keys)
        Block block = model.blocks.get(layer);
        Attention attn = block.attn;
        float[] x = block.norm1.forward(h, time).clone();                     // [T, d]
        float[] qa = attn.q.forward(x, time).clone();                          // [T, H·hd]
        float[] ka = attn.k.forward(x, time).clone();                          // [T, Hkv·hd]
        float[] va = attn.v.forward(x, time).clone();                          // [T, Hkv·hd]
        if (c.position() == ModelConfig.Position.ROPE) {                       // positions enter here, as a rotation of q and k
            Rope rope = new Rope(hd, c.contextLength(), c.ropeTheta());
            rope.apply(qa, 1, time, nh, hd, false);
            rope.apply(ka, 1, time, nkv, hd, false);
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        int group = nh / nkv;                                                  // q heads per k/v head (GQA)
        float[][][] p = new float[nh][time][time];                             // [H, T, T]
        scores = new float[nh][];
        float[] o = new float[time * nh * hd];                                 // [T, H·hd]: the heads side by side
        for (int head = 0; head < nh; head++) {
            int kh = head / group;
            for (int t = 0; t < time; t++) {
                float[] sc = new float[time];                                 // S[t, ·] for this head
                float max = Float.NEGATIVE_INFINITY;
                for (int s = 0; s < time; s++) {
                    if (s > t) {
                        sc[s] = Float.NEGATIVE_INFINITY;                      // the causal mask: a query never sees a later key
                        continue;
                    }
                    float dot = 0f;
                    for (int i = 0; i < hd; i++) dot += qa[t * nh * hd + head * hd + i] * ka[s * nkv * hd + kh * hd + i];
                    sc[s] = dot * scale;
                    max = Math.max(max, sc[s]);
                }
                float sum = 0f;                                                // softmax, shifted by the max so exp cannot overflow
                for (int s = 0; s <= t; s++) sum += p[head][t][s] = (float) Math.exp(sc[s] - max);
                for (int s = 0; s <= t; s++) {
                    p[head][t][s] /= sum;
                    for (int i = 0; i < hd; i++) o[t * nh * hd + head * hd + i] += p[head][t][s] * va[s * nkv * hd + kh * hd + i];
                }
                if (t == pt) scores[head] = sc;
            }
        }
        float[] a = attn.o.forward(o, time).clone();                          // [T, d]
        float[] h1 = new float[time * d];
        for (int i = 0; i < h1.length; i++) h1[i] = h[i] + a[i];
        float[] x2 = block.norm2.forward(h1, time).clone();
        Mlp mlp = block.mlp;
        int hidden = mlp.fc.out;
        float[] pre = mlp.fc.forward(x2, time).clone();                        // [T, hidden]
        float[] up = mlp.up != null ? mlp.up.forward(x2, time).clone() : null; // SwiGLU's second branch
        float[] act = new float[time * hidden];                                // act(fc(X2)), times up(X2) for SwiGLU
        for (int i = 0; i < act.length; i++) {
            act[i] = mlp.activation.apply(pre[i]) * (mlp.activation == Activation.SWIGLU ? up[i] : 1f);
        }
        float[] m = mlp.proj.forward(act, time).clone();                      // [T, d]
        float[] h2 = new float[time * d];
        for (int i = 0; i < h2.length; i++) h2[i] = h1[i] + m[i];

        // the layers above, the final norm and the LM head, as the model runs them
        float[] hs = h2;
        for (int l = layer + 1; l < c.nLayers(); l++) hs = model.blocks.get(l).forward(hs, 1, time, false, null).clone();
        float[] logits = model.head.forward(model.finalNorm.forward(hs, time), time).clone(); // [T, V]

        float weightDiff = 0f, logitDiff = 0f;
        for (int head = 0; head < nh; head++) {
            for (int t = 0; t < time; t++) {
                for (int s = 0; s < time; s++) weightDiff = Math.max(weightDiff, Math.abs(p[head][t][s] - realWeights[(head * time + t) * time + s]));
            }
        }
        for (int i = 0; i < time * c.vocabSize(); i++) logitDiff = Math.max(logitDiff, Math.abs(logits[i] - realLogits[i]));
        maxWeightDiff = weightDiff;
        maxLogitDiff = logitDiff;

        // keep what happened at position t
        q = new float[nh][];
        headOut = new float[nh][];
        weights = new float[nh][];
        for (int head = 0; head < nh; head++) {
            q[head] = Arrays.copyOfRange(qa, (pt * nh + head) * hd, (pt * nh + head + 1) * hd);
            headOut[head] = Arrays.copyOfRange(o, (pt * nh + head) * hd, (pt * nh + head + 1) * hd);
            weights[head] = p[head][pt];
        }
        k = new float[nkv][];
        v = new float[nkv][];
        for (int kh = 0; kh < nkv; kh++) {
            k[kh] = Arrays.copyOfRange(ka, (pt * nkv + kh) * hd, (pt * nkv + kh + 1) * hd);
            v[kh] = Arrays.copyOfRange(va, (pt * nkv + kh) * hd, (pt * nkv + kh + 1) * hd);
        }
        input = row(h, pt, d);
        norm1 = row(x, pt, d);
        attnOut = row(a, pt, d);
        residual1 = row(h1, pt, d);
        norm2 = row(x2, pt, d);
        mlpHidden = row(act, pt, hidden);
        mlpOut = row(m, pt, d);
        output = row(h2, pt, d);
        this.logits = row(logits, pt, vocab);
        double[] prob = Explanation.softmax(this.logits, 0, vocab);
        List<Explanation.Candidate> best = new ArrayList<>();
        for (int id : Explanation.topIds(prob, Math.min(5, vocab))) {
            best.add(new Explanation.Candidate(id, id < tok.vocabSize() ? TokenText.visible(tok, id) : "<" + id + ">", (float) prob[id]));
        }
        top = List.copyOf(best);
    }

    private static float[] row(float[] a, int r, int n) {
        return Arrays.copyOfRange(a, r * n, (r + 1) * n);
    }
}
