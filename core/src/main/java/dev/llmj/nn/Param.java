package dev.llmj.nn;

import dev.llmj.tensor.Kernels;

import java.util.Arrays;

/**
 * A trainable tensor: its values, its gradient (same shape, accumulated by backward passes, and
 * allocated by the first of them) and
 * whether AdamW's weight decay applies to it (matrices yes; norms, biases and embeddings no).
 */
public final class Param {
    public final String name;
    public final int[] shape;
    private final float[] value;  // row-major, or (a matrix, while packed) Kernels.packPanels' layout
    private volatile boolean packed;
    private float[] grad;         // allocated by the first backward: a model that only infers never holds one
    public final boolean decay;

    public Param(String name, boolean decay, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        int n = 1;
        for (int s : shape) n = Math.multiplyExact(n, s);
        this.value = new float[n];
        this.decay = decay;
    }

    /**
     * The values, row-major in {@link #shape} (a linear layer's weight [out, in], as PyTorch stores it), for
     * training, saving, loading and any reader or writer. If an inference left the matrix {@link #packed}, it is
     * unpacked in place first; so a write through this array takes effect at the next inference, which packs it
     * again. Do not keep the array across an inference: it is the same array, in the other layout. Nor call this
     * while another thread runs an inference on the same model: the layout changes in place.
     */
    public float[] value() {
        if (packed) layout(false);
        return value;
    }

    /**
     * The matrix [out, in] packed in place for inference's products ({@link Kernels#packPanels}): the first
     * inference packs it, the next {@link #value()} unpacks it. A model that only infers is packed once, when it
     * first runs, and no second copy of its weights is ever made.
     */
    public float[] packed() {
        if (!packed) layout(true);
        return value;
    }

    /** Whether the values are {@link #packed} now (a tied embedding reads its rows from either layout). */
    public boolean isPacked() {
        return packed;
    }

    private synchronized void layout(boolean pack) {
        if (packed == pack) return;
        if (shape.length != 2) throw new IllegalStateException(name + " is not a matrix: only a matrix is packed");
        if (pack) Kernels.packPanels(value, shape[0], shape[1]);
        else Kernels.unpackPanels(value, shape[0], shape[1]);
        packed = pack;
    }

    public int size() {
        return value.length;
    }

    /** The gradient, same shape as {@link #value}: zeros until a backward pass adds to it. */
    public float[] grad() {
        if (grad == null) grad = new float[value.length];
        return grad;
    }

    public void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0f);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
