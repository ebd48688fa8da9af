package dev.llmj.nn;

import java.util.Arrays;

/**
 * A trainable tensor: its values, its gradient (same shape, accumulated by backward passes) and
 * whether AdamW's weight decay applies to it (matrices yes; norms, biases and embeddings no).
 */
public final class Param {
    public final String name;
    public final int[] shape;
    public final float[] value;
    public final float[] grad;
    public final boolean decay;
    private int version;          // bumped by every change llmj makes to value (an optimizer step, a load)

    public Param(String name, boolean decay, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        int n = 1;
        for (int s : shape) n = Math.multiplyExact(n, s);
        this.value = new float[n];
        this.grad = new float[n];
        this.decay = decay;
    }

    public int size() {
        return value.length;
    }

    public void zeroGrad() {
        Arrays.fill(grad, 0f);
    }

    /**
     * Says that {@link #value} changed. AdamW and loading do it; code that writes {@code value}
     * itself and then generates must call it, or the KV-cache path keeps using the old weights'
     * kernel layout (the training forward always reads {@code value} afresh).
     */
    public void changed() {
        version++;
    }

    /** How many times {@link #changed} was called: a layout built from {@link #value} is current while this is unchanged. */
    public int version() {
        return version;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
