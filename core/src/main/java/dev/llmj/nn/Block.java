package dev.llmj.nn;

import dev.llmj.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * One pre-norm transformer block:
 * <pre>
 *   H1 = H  + Dropout(Attention(Norm1(H)))
 *   H2 = H1 + Dropout(Mlp(Norm2(H1)))
 * </pre>
 */
public final class Block {
    public final Norm norm1, norm2;
    public final Attention attn;
    public final Mlp mlp;
    private final Dropout drop1, drop2;
    private float[] h1, h2, dh1, dh;
    private int rows;

    public Block(Norm norm1, Attention attn, Norm norm2, Mlp mlp, float dropout) {
        this.norm1 = norm1;
        this.attn = attn;
        this.norm2 = norm2;
        this.mlp = mlp;
        this.drop1 = new Dropout(dropout);
        this.drop2 = new Dropout(dropout);
    }

    private void size(int rows) {
        if (h1 == null || this.rows != rows) {
            int n = rows * attn.d;
            h1 = new float[n];
            h2 = new float[n];
            dh1 = new float[n];
            dh = new float[n];
            this.rows = rows;
        }
    }

    /** H [B·T, d] → H2 [B·T, d]. */
    public float[] forward(float[] h, int batch, int time, boolean training, Rng rng) {
        int rows = batch * time, n = rows * attn.d;
        size(rows);
        float[] a = drop1.forward(attn.forward(norm1.forward(h, rows), batch, time), n, training, rng);
        for (int i = 0; i < n; i++) h1[i] = h[i] + a[i];
        float[] m = drop2.forward(mlp.forward(norm2.forward(h1, rows), rows), n, training, rng);
        for (int i = 0; i < n; i++) h2[i] = h1[i] + m[i];
        return h2;
    }

    /** The same block for n new tokens of each of R sequences, attending through the KV cache (inference: no dropout). */
    public float[] forwardCached(float[] h, int seqs, int n, int[] rows, int[] start, float[] keys, float[] values, int capacity) {
        int count = seqs * n, size = count * attn.d;
        size(count);
        float[] a = attn.forwardCached(norm1.forward(h, count), seqs, n, rows, start, keys, values, capacity);
        for (int i = 0; i < size; i++) h1[i] = h[i] + a[i];
        float[] m = mlp.forwardInference(norm2.forward(h1, count), count);
        for (int i = 0; i < size; i++) h2[i] = h1[i] + m[i];
        return h2;
    }

    /** dH2 → dH: the residual passes the gradient straight through and adds each branch's. */
    public float[] backward(float[] dh2) {
        int n = dh.length;
        float[] g = norm2.backward(mlp.backward(drop2.backward(dh2)));
        for (int i = 0; i < n; i++) dh1[i] = dh2[i] + g[i];
        float[] f = norm1.backward(attn.backward(drop1.backward(dh1)));
        for (int i = 0; i < n; i++) dh[i] = dh1[i] + f[i];
        return dh;
    }

    public List<Param> params() {
        List<Param> ps = new ArrayList<>(norm1.params());
        ps.addAll(attn.params());
        ps.addAll(norm2.params());
        ps.addAll(mlp.params());
        return ps;
    }
}
