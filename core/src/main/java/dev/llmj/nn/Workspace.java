package dev.llmj.nn;

/**
 * The working arrays of inference (the KV-cache path), one set shared by every layer of a model.
 * Training keeps each layer's activations for its backward pass; inference needs none of them once
 * the next layer has read them, and the layers run one after another, so each block borrows the
 * same arrays as the block before it: the memory for activations does not grow with the depth
 * (llama-110m reading a 128-token prompt: about 9 MB, not 12 layers × 9 MB).
 * <p>
 * An array grows to the largest call and is then kept; a smaller call uses its front, so a prompt
 * followed by one-token decoding steps allocates nothing after the first prompt of that length.
 * Callers pass sizes, never read {@code length}. Not thread-safe, as the layers it serves.
 */
public final class Workspace {
    /** What each array holds while a block runs. */
    public enum Slot {
        /** The residual stream, ping-ponged between blocks (a block reads one, writes the other). */
        STREAM_A, STREAM_B,
        /** A residual sum before its post-norm. */
        SUM,
        /** A norm's output: a branch's input. */
        NORMED,
        /** A branch's output (attention or MLP), before its residual add. */
        BRANCH,
        /** Attention: q, k, v of the new tokens; the heads' weighted sums; one query's weights over the keys, per (row, head). */
        Q, K, V, ATTENDED, SCORES,
        /** MLP: fc (gate) output, up output, the activation and its derivative. */
        PRE, UP, ACT, DERIV,
        /** A linear layer's transposed input and output (many rows: Yᵀ = W·Xᵀ). */
        X_T, Y_T
    }

    private final float[][] arrays = new float[Slot.values().length][];

    /** The array of {@code slot}, at least {@code size} long; its contents are whatever the last user left. */
    public float[] get(Slot slot, int size) {
        float[] a = arrays[slot.ordinal()];
        if (a == null || a.length < size) arrays[slot.ordinal()] = a = new float[size];
        return a;
    }

    /** Bytes held now. */
    public long bytes() {
        long n = 0;
        for (float[] a : arrays) if (a != null) n += (long) a.length * Float.BYTES;
        return n;
    }
}
