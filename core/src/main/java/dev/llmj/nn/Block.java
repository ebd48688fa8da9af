package dev.llmj.nn;

import dev.llmj.tensor.Kernels;

import dev.llmj.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * One transformer block: self-attention, then (in an encoder–decoder's decoder) cross-attention
 * to the encoder's output, then the MLP, each a residual branch with its norm. Pre-norm (GPT-2,
 * Llama, {@code norm_first=True}) normalises each branch's input; post-norm (the original
 * Transformer, BERT, PyTorch's default {@code norm_first=False}) normalises after each residual add:
 * <pre>
 *   pre-norm:  H1 = H + Attn(Norm1(H))      Hc = H1 + Cross(NormC(H1), M)      H2 = Hc + Mlp(Norm2(Hc))
 *   post-norm: H1 = Norm1(H + Attn(H))      Hc = NormC(H1 + Cross(H1, M))      H2 = Norm2(Hc + Mlp(Hc))
 * </pre>
 * Without cross-attention Hc = H1. Each branch's output passes through dropout before the add.
 */
public final class Block {
    public final Norm norm1, norm2;
    public final Attention attn;
    public final Norm crossNorm;   // null without cross-attention
    public final Attention cross;  // null in a decoder-only model and in an encoder
    public final Mlp mlp;
    public final boolean postNorm;
    private final Dropout drop1, dropCross, drop2;
    private float[] s1, h1, sc, hc, s2, h2; // s: a residual sum before its post-norm
    private Workspace ws = new Workspace(); // the backward's gradients: shared within a model (share)
    private float[] dMemory;                               // ∂L/∂M from the cross-attention, [B·Tm, d]
    private int rows;

    /** A pre-norm block without cross-attention (GPT-2, Llama). */
    public Block(Norm norm1, Attention attn, Norm norm2, Mlp mlp, float dropout) {
        this(norm1, attn, null, null, norm2, mlp, dropout, false);
    }

    public Block(Norm norm1, Attention attn, Norm crossNorm, Attention cross, Norm norm2, Mlp mlp, float dropout, boolean postNorm) {
        if ((crossNorm == null) != (cross == null)) throw new IllegalArgumentException("cross-attention needs its norm");
        this.norm1 = norm1;
        this.attn = attn;
        this.crossNorm = crossNorm;
        this.cross = cross;
        this.norm2 = norm2;
        this.mlp = mlp;
        this.postNorm = postNorm;
        this.drop1 = new Dropout(dropout);
        this.dropCross = new Dropout(dropout);
        this.drop2 = new Dropout(dropout);
    }

    private void size(int rows) {
        int n = rows * attn.d;
        h1 = Workspace.grow(h1, n);
        h2 = Workspace.grow(h2, n);
        if (postNorm) { // the sums before each norm (pre-norm keeps no such copy)
            s1 = Workspace.grow(s1, n);
            s2 = Workspace.grow(s2, n);
            if (cross != null) sc = Workspace.grow(sc, n);
        }
        if (cross != null) hc = Workspace.grow(hc, n);
        this.rows = rows;
    }

    /** H [B·T, d] → H2 [B·T, d], self-attention only, every position real. */
    public float[] forward(float[] h, int batch, int time, boolean training, Rng rng) {
        return forward(h, batch, time, null, null, 0, null, training, rng);
    }

    /**
     * H [B·T, d] → H2 [B·T, d]. {@code valid} [B·T] marks real positions (padding keys are masked in
     * self-attention; null: all real); {@code memory} [B·Tm, d] is the encoder's output for the
     * cross-attention, with {@code memoryValid} [B·Tm] its real positions (both null without cross-attention).
     */
    public float[] forward(float[] h, int batch, int time, boolean[] valid, float[] memory, int memoryTime, boolean[] memoryValid,
                           boolean training, Rng rng) {
        int rows = batch * time, n = rows * attn.d;
        size(rows);
        if ((memory == null) != (cross == null)) throw new IllegalArgumentException(cross == null ? "this block has no cross-attention" : "cross-attention needs the encoder's output");
        float[] a = drop1.forward(attn.forward(postNorm ? h : norm1.forward(h, rows), null, batch, time, time, valid), n, training, rng);
        float[] x = residual(h, a, s1, h1, norm1, rows);
        if (cross != null) {
            float[] c = dropCross.forward(cross.forward(postNorm ? x : crossNorm.forward(x, rows), memory, batch, time, memoryTime, memoryValid),
                    n, training, rng);
            x = residual(x, c, sc, hc, crossNorm, rows);
        }
        float[] m = drop2.forward(mlp.forward(postNorm ? x : norm2.forward(x, rows), rows), n, training, rng);
        return residual(x, m, s2, h2, norm2, rows);
    }

    /** in + branch: into {@code out} (pre-norm), or normalised after the add (post-norm; the sum kept in {@code sum}). */
    private float[] residual(float[] in, float[] branch, float[] sum, float[] out, Norm norm, int rows) {
        float[] to = postNorm ? sum : out;
        Kernels.add(to, in, branch, rows * attn.d);
        return postNorm ? norm.forward(sum, rows) : out;
    }

    /**
     * The same block for n new tokens of each of R sequences, attending through the KV cache
     * (inference: no dropout, nothing kept): h [R·n, d] in, H2 written into {@code out} (not h).
     */
    public float[] forwardCached(float[] h, int seqs, int n, int[] rows, int[] start, float[] keys, float[] values, int capacity,
                                 float[] out, Workspace ws) {
        if (postNorm || cross != null) throw new UnsupportedOperationException("the KV-cache path is for pre-norm decoder-only blocks");
        int count = seqs * n, size = count * attn.d;
        float[] normed = ws.get(Workspace.Slot.NORMED, size), branch = ws.get(Workspace.Slot.BRANCH, size);
        attn.forwardCached(norm1.apply(h, count, normed), seqs, n, rows, start, keys, values, capacity, branch, ws);
        for (int i = 0; i < size; i++) out[i] = h[i] + branch[i];                  // H1
        mlp.forwardInference(norm2.apply(out, count, normed), count, branch, ws);
        for (int i = 0; i < size; i++) out[i] += branch[i];                        // H2 = H1 + Mlp(Norm2(H1))
        return out;
    }

    /**
     * An encoder–decoder's decoder block for n new tokens of each of R sequences (inference: no
     * dropout), pre- or post-norm: the self-attention through the KV cache as {@link #forwardCached},
     * then the cross-attention over one source's keys and values, computed once per source
     * ({@link Attention#crossKeysValues}, [Tm, Hkv·hd]) with {@code memValid} [Tm] its real positions.
     * H2 is written into {@code out} (not h).
     */
    public float[] forwardCachedCross(float[] h, int seqs, int n, int[] rows, int[] start, float[] keys, float[] values, int capacity,
                                      float[] memKeys, float[] memValues, int memTime, boolean[] memValid, float[] out, Workspace ws) {
        if (cross == null) throw new UnsupportedOperationException("this block has no cross-attention");
        int count = seqs * n, size = count * attn.d;
        float[] normed = ws.get(Workspace.Slot.NORMED, size), branch = ws.get(Workspace.Slot.BRANCH, size);
        attn.forwardCached(postNorm ? h : norm1.apply(h, count, normed), seqs, n, rows, start, keys, values, capacity, branch, ws);
        residualInference(h, branch, out, norm1, count, ws);
        cross.forwardCross(postNorm ? out : crossNorm.apply(out, count, normed), count, memKeys, memValues, memTime, memValid, branch, ws);
        residualInference(out, branch, out, crossNorm, count, ws);
        mlp.forwardInference(postNorm ? out : norm2.apply(out, count, normed), count, branch, ws);
        return residualInference(out, branch, out, norm2, count, ws);
    }

    /** {@link #residual} for inference: in + branch into {@code out} (may be {@code in}), normalised after the add when post-norm. */
    private float[] residualInference(float[] in, float[] branch, float[] out, Norm norm, int rows, Workspace ws) {
        int size = rows * attn.d;
        float[] to = postNorm ? ws.get(Workspace.Slot.SUM, size) : out;
        for (int i = 0; i < size; i++) to[i] = in[i] + branch[i];
        return postNorm ? norm.apply(to, rows, out) : out;
    }

    /**
     * dH2 → dH: a residual passes the gradient straight through and adds its branch's. After a block
     * with cross-attention, {@link #memoryGrad} holds ∂L/∂M.
     */
    public float[] backward(float[] dh2) {
        int n = rows * attn.d;
        // dh2 may be the array this returns (the block after this one returned it from the same workspace):
        // it is read only before dh is written, at the end
        float[] dhc = ws.get(Workspace.Slot.BLOCK_D_HC, n), dh = ws.get(Workspace.Slot.BLOCK_DX, n);
        // the MLP branch: pre-norm  Hc → H2 = Hc + Mlp(Norm2(Hc));  post-norm  Hc → H2 = Norm2(Hc + Mlp(Hc))
        float[] ds = postNorm ? norm2.backward(dh2) : dh2;
        float[] g = mlp.backward(drop2.backward(ds));
        if (!postNorm) g = norm2.backward(g);
        Kernels.add(dhc, ds, g, n);
        float[] d1 = dhc;
        if (cross != null) {
            ds = postNorm ? crossNorm.backward(dhc) : dhc;
            g = cross.backward(dropCross.backward(ds));
            if (!postNorm) g = crossNorm.backward(g);
            float[] dh1 = ws.get(Workspace.Slot.BLOCK_D_H1, n);
            Kernels.add(dh1, ds, g, n);
            d1 = dh1;
            dMemory = cross.memoryGrad();
        }
        ds = postNorm ? norm1.backward(d1) : d1;
        g = attn.backward(drop1.backward(ds));
        if (!postNorm) g = norm1.backward(g);
        Kernels.add(dh, ds, g, n);
        return dh;
    }

    /** ∂L/∂M [B·Tm, d] of the last backward (cross-attention only); valid until this block's next backward. */
    public float[] memoryGrad() {
        return dMemory;
    }

    /**
     * Makes this block take its backward's gradients and its layers' scratch from {@code ws}, shared
     * with the model's other blocks: the memory they need is one block's, whatever the depth.
     */
    public void share(Workspace ws) {
        share(ws, ws);
    }

    /**
     * The same, with the cross-attention's arrays in {@code crossWs} (shared by the cross-attentions of
     * a decoder's blocks): its keys are the source's rows, the self-attention's the target's, and one
     * slot for both would be made anew twice per block and step.
     */
    public void share(Workspace ws, Workspace crossWs) {
        this.ws = ws;
        norm1.share(ws);
        norm2.share(ws);
        attn.share(ws);
        mlp.share(ws);
        if (cross != null) {
            crossNorm.share(ws);
            cross.share(crossWs);
        }
    }

    public List<Param> params() {
        List<Param> ps = new ArrayList<>(norm1.params());
        ps.addAll(attn.params());
        if (cross != null) {
            ps.addAll(crossNorm.params());
            ps.addAll(cross.params());
        }
        ps.addAll(norm2.params());
        ps.addAll(mlp.params());
        return ps;
    }
}
