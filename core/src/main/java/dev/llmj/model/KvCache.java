package dev.llmj.model;

/**
 * The keys and values every layer has computed so far, for each of a fixed number of sequences
 * (cache rows), so generating a token only computes that token's q, k and v and reads the rest.
 * <pre>
 *   keys[l], values[l]   [rows, Hkv, capacity, hd]   (capacity = the context length)
 *   length[r]            tokens sequence r holds: positions 0 .. length[r]−1 are filled
 * </pre>
 * Memory: 2 · layers · rows · capacity · Hkv·hd floats — grouped-query attention shrinks it by H/Hkv.
 * Each head's positions lie one after another, so a new query reads its head's keys, then values, as one
 * stream. Laid out [rows, capacity, Hkv·hd], a head's keys were 256 B pieces 3 KB apart (llama-110m), which the
 * prefetchers did not follow: decoding tokens 768–896 of llama-110m ran at 60–69 tokens/s, and at 78–79 now.
 */
public final class KvCache {
    public final int rows, capacity, kvDim;
    final float[][] keys, values;
    private final int[] length;

    public KvCache(ModelConfig c, int rows) {
        if (rows < 1) throw new IllegalArgumentException("a KV cache needs at least one row, not " + rows);
        this.rows = rows;
        this.capacity = c.contextLength();
        this.kvDim = c.nKvHeads() * c.headDim();
        if ((long) rows * capacity * kvDim > Integer.MAX_VALUE) {
            throw new dev.llmj.LlmjException("a KV cache of " + rows + " rows × " + capacity + " positions is too large for one layer's array");
        }
        keys = new float[c.nLayers()][rows * capacity * kvDim];
        values = new float[c.nLayers()][rows * capacity * kvDim];
        length = new int[rows];
    }

    /** How many tokens row {@code r} holds. */
    public int length(int r) {
        return length[r];
    }

    /** Forgets row {@code r}'s tokens (its slots are simply overwritten later). */
    public void reset(int r) {
        length[r] = 0;
    }

    void advance(int r, int n) {
        length[r] += n;
    }

    public long bytes() {
        return 2L * keys.length * keys[0].length * Float.BYTES;
    }

    /** What a cache of {@code rows} rows for a model of config {@code c} holds, in bytes, without making one. */
    public static long bytes(ModelConfig c, int rows) {
        return 2L * c.nLayers() * rows * c.contextLength() * c.nKvHeads() * c.headDim() * Float.BYTES;
    }
}
