package dev.llmj.nn;

import dev.llmj.tensor.Kernels;

/** A lookup table: row {@code id} of weight [n, d] for each id. Backward adds each row's gradient back. */
public final class Embedding {
    public final int n, d;
    public final Param weight; // [n, d]
    private int[] ids;
    private float[] y;
    private int rows;

    public Embedding(String name, int n, int d) {
        this.n = n;
        this.d = d;
        this.weight = new Param(name + ".weight", false, n, d);
    }

    /** ids [R] → [R, d]. */
    public float[] forward(int[] ids, int rows) {
        y = Workspace.grow(y, rows * d);
        this.rows = rows;
        this.ids = ids;
        return lookup(ids, rows, y);
    }

    /**
     * ids [R] → y [R, d], keeping nothing (inference). A table tied to an output layer may be packed for its
     * products ({@link Param#packed}); its rows are read where they are then, rather than unpacking it at every token.
     */
    public float[] lookup(int[] ids, int rows, float[] y) {
        boolean packed = weight.isPacked();
        float[] table = packed ? weight.packed() : weight.value();
        for (int r = 0; r < rows; r++) {
            int id = ids[r];
            if (id < 0 || id >= n) throw new IllegalArgumentException("id " + id + " outside the table [0, " + n + ")");
            if (packed) Kernels.packedRow(table, n, d, id, y, r * d);
            else System.arraycopy(table, id * d, y, r * d, d);
        }
        return y;
    }

    public void backward(float[] dy) {
        float[] g = weight.grad();
        for (int r = 0; r < rows; r++) {
            int o = ids[r] * d, s = r * d;
            for (int i = 0; i < d; i++) g[o + i] += dy[s + i];
        }
    }
}
