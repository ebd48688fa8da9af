package dev.llmj.nn;

import dev.llmj.tensor.Rng;

/**
 * Inverted dropout: in training each value is zeroed with probability p and the rest scaled by
 * 1/(1−p); in evaluation (or with p = 0) it passes values through untouched. The mask comes from
 * the model's seeded generator, so runs repeat exactly.
 */
public final class Dropout {
    private final float p;
    private float[] mask, y, dx;
    private int n;
    private boolean active;

    public Dropout(float p) {
        this.p = p;
    }

    public float[] forward(float[] x, int n, boolean training, Rng rng) {
        active = training && p > 0f;
        if (!active) return x;
        mask = Workspace.grow(mask, n);
        y = Workspace.grow(y, n);
        dx = Workspace.grow(dx, n);
        this.n = n;
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) {
            mask[i] = rng.nextFloat() < p ? 0f : keep;
            y[i] = x[i] * mask[i];
        }
        return y;
    }

    public float[] backward(float[] dy) {
        if (!active) return dy;
        for (int i = 0; i < n; i++) dx[i] = dy[i] * mask[i];
        return dx;
    }
}
