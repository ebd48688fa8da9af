package dev.llmj.nn;

/**
 * Rotary position embedding as Hugging Face's Llama applies it: the head vector's two halves
 * (x1, x2) are rotated pairwise by angle t·θ^(−2i/hd) at position t:
 * y1 = x1·cos − x2·sin, y2 = x2·cos + x1·sin. Nothing is learned.
 */
public final class Rope {
    private final int headDim, maxTime;
    private final float[] cos, sin; // [maxTime, headDim/2]

    public Rope(int headDim, int maxTime, float theta) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head size, not " + headDim);
        this.headDim = headDim;
        this.maxTime = maxTime;
        int half = headDim / 2;
        cos = new float[maxTime * half];
        sin = new float[maxTime * half];
        for (int t = 0; t < maxTime; t++) {
            for (int i = 0; i < half; i++) {
                float invFreq = (float) (1.0 / StrictMath.pow(theta, (2.0 * i) / headDim));
                float angle = t * invFreq; // in float32, as PyTorch computes it
                cos[t * half + i] = (float) StrictMath.cos(angle);
                sin[t * half + i] = (float) StrictMath.sin(angle);
            }
        }
    }

    /** Rotates x [B·T, heads·hd] in place; {@code inverse} rotates back (for the backward pass). */
    public void apply(float[] x, int batch, int time, int heads, int hd, boolean inverse) {
        if (time > maxTime) throw new IllegalArgumentException("sequence of " + time + " is longer than RoPE's table of " + maxTime);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) rotate(x, (b * time + t) * heads * hd, heads, t, inverse);
        }
    }

    /** Rotates one token's heads, x[off .. off + heads·hd), as position {@code pos} (the KV-cache path). */
    public void rotate(float[] x, int off, int heads, int pos, boolean inverse) {
        if (pos >= maxTime) throw new IllegalArgumentException("position " + pos + " is beyond RoPE's table of " + maxTime);
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int o = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[pos * half + i], s = inverse ? -sin[pos * half + i] : sin[pos * half + i];
                float x1 = x[o + i], x2 = x[o + i + half];
                x[o + i] = x1 * c - x2 * s;
                x[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
