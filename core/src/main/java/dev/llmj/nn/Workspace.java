package dev.llmj.nn;

/**
 * Working arrays shared by the layers of one model, which run one after another.
 * <p>
 * Inference (the KV-cache path): training keeps each layer's activations for its backward pass;
 * inference needs none of them once the next layer has read them, so each block borrows the same
 * arrays as the block before it: the memory for activations does not grow with the depth (llama-110m
 * reading a 128-token prompt: about 10 MB, not 12 layers × 10 MB). These arrays grow to the largest
 * call and are then kept ({@link #get}); a smaller call uses their front, so a prompt followed by
 * one-token steps allocates nothing after the first prompt of that length.
 * <p>
 * Training: what a backward pass needs only while one block's backward runs (each layer's dX, the
 * attention's ∂L/∂scores, the gradient flowing between the branches of a block) and what a forward
 * needs only during one call (a weight's transposed copy, a head's transposed keys) is shared the
 * same way: a block reads the gradient the block after it returned, and once it has, that block's
 * arrays are free for it. What a backward pass reads from its forward (inputs, softmax weights,
 * activations) stays in each layer.
 * <p>
 * Every array here, and every array a layer keeps, only grows ({@link #grow}): it may be longer than
 * what the last call put in it, so each is read with explicit sizes, never its length. Batches whose
 * shape varies (sentences of varying length: MLM, seq2seq) then allocate nothing once the largest
 * has been seen, and a small young generation serves every command.
 * <p>
 * Not thread-safe, as the layers it serves.
 */
public final class Workspace {
    /** What each array holds while a block runs. */
    public enum Slot {
        // ---- inference
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
        /** MLP: fc (gate) output, up output, the activation. */
        PRE, UP, ACT,
        // ---- training: scratch within one call
        /** A linear layer's weight transposed for its forward, [in, out]. */
        W_T,
        // ---- training: gradients handed on within one block's backward
        /** Attention: dX of o, the gradients of q, k, v (after the heads), and dX of q, k and v, summed (returned). */
        ATT_D_OUT, ATT_DQ, ATT_DK, ATT_DV, ATT_DX,
        /** MLP: dX of proj, the gradients of fc's (gate's) and up's outputs, and dX of fc and up, summed (returned). */
        MLP_D_HIDDEN, MLP_D_PRE, MLP_D_UP, MLP_DX,
        /** A block norm's dX. */
        NORM_DX,
        /** A block: ∂L/∂Hc and ∂L/∂H1 (see {@link Block}); dH (returned, read by the block before). */
        BLOCK_D_HC, BLOCK_D_H1, BLOCK_DX,
        /** The LM head's dX. */
        HEAD_DX
    }

    private final float[][] arrays = new float[Slot.values().length][];

    /** The array of {@code slot}, at least {@code size} long; its contents are whatever the last user left. */
    public float[] get(Slot slot, int size) {
        float[] a = arrays[slot.ordinal()];
        if (a == null || a.length < size) arrays[slot.ordinal()] = a = new float[size];
        return a;
    }

    /** {@code a} when it holds at least {@code n} values, else a new array of n: a buffer that only grows. */
    public static float[] grow(float[] a, int n) {
        return a != null && a.length >= n ? a : new float[n];
    }

    /** {@link #grow(float[], int)} for ids. */
    public static int[] grow(int[] a, int n) {
        return a != null && a.length >= n ? a : new int[n];
    }
}
