package dev.llmj.nn;

import java.util.Arrays;

/**
 * A trainable tensor: its values, its gradient (same shape, accumulated by backward passes, and
 * allocated by the first of them) and
 * whether AdamW's weight decay applies to it (matrices yes; norms, biases and embeddings no).
 */
public final class Param {
    public final String name;
    public final int[] shape;
    public final float[] value;
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
