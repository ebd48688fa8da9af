package dev.llmj.model;

import dev.llmj.LlmjException;

/**
 * What decoding one source needs besides the weights: the cross-attention keys and values of the
 * encoder's output, computed once per source, and the decoder's self-attention KV cache for each of
 * a fixed number of target rows (beams), which {@link #reorder} permutes as beams are kept or dropped.
 * <pre>
 *   memKeys[l], memValues[l]   [Tm, H·hd]              (Tm = the source's length)
 *   keys[l], values[l]         [rows, H, capacity, hd] (capacity = the context length; as {@link KvCache})
 *   length[r]                  target tokens row r holds
 * </pre>
 */
public final class Seq2SeqCache {
    public final int rows, capacity, kvDim, heads, memTime;
    final float[][] memKeys, memValues;
    final boolean[] memValid;          // [Tm]: real source positions; null when all are
    float[][] keys, values;
    private float[][] spareKeys, spareValues; // the other half of a double buffer for reorder
    private int[] length;

    Seq2SeqCache(int layers, int rows, int capacity, int kvDim, int heads, int memTime, float[][] memKeys, float[][] memValues, boolean[] memValid) {
        if (rows < 1) throw new IllegalArgumentException("a cache needs at least one row, not " + rows);
        if ((long) rows * capacity * kvDim > Integer.MAX_VALUE) throw new LlmjException("a cache of " + rows + " rows is too large for one array");
        this.rows = rows;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.heads = heads;
        this.memTime = memTime;
        this.memKeys = memKeys;
        this.memValues = memValues;
        this.memValid = memValid;
        keys = new float[layers][rows * capacity * kvDim];
        values = new float[layers][rows * capacity * kvDim];
        spareKeys = new float[layers][rows * capacity * kvDim];
        spareValues = new float[layers][rows * capacity * kvDim];
        length = new int[rows];
    }

    /** How many target tokens row {@code r} holds. */
    public int length(int r) {
        return length[r];
    }

    void advance(int r, int n) {
        length[r] += n;
    }

    /** Rows 0..n−1 become copies of rows {@code parents[0..n−1]} (a parent may be copied into several rows). */
    public void reorder(int[] parents, int n) {
        int[] newLength = new int[rows];
        int hd = kvDim / heads;
        for (int l = 0; l < keys.length; l++) {
            for (int r = 0; r < n; r++) {
                int p = parents[r], len = length[p] * hd;
                for (int h = 0; h < heads; h++) { // each head's filled positions
                    int from = (p * heads + h) * capacity * hd, to = (r * heads + h) * capacity * hd;
                    System.arraycopy(keys[l], from, spareKeys[l], to, len);
                    System.arraycopy(values[l], from, spareValues[l], to, len);
                }
            }
        }
        for (int r = 0; r < n; r++) newLength[r] = length[parents[r]];
        float[][] k = keys, v = values;
        keys = spareKeys;
        values = spareValues;
        spareKeys = k;
        spareValues = v;
        length = newLength;
    }
}
