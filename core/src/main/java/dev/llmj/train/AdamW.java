package dev.llmj.train;

import dev.llmj.nn.Param;
import dev.llmj.tensor.Parallel;

import java.util.List;

/**
 * Adam with decoupled weight decay, step for step as PyTorch's {@code torch.optim.AdamW}:
 * <pre>
 *   p ← p·(1 − lr·wd)                       (only for parameters that decay)
 *   m ← β1·m + (1 − β1)·g      v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 * </pre>
 */
public final class AdamW {
    public final float beta1, beta2, eps, weightDecay;
    private final boolean decayAll;
    private final List<Param> params;
    public final float[][] m, v; // first and second moments, one per parameter
    private long step;

    public AdamW(List<Param> params, float beta1, float beta2, float eps, float weightDecay) {
        this(params, beta1, beta2, eps, weightDecay, false);
    }

    /** With {@code decayAll}, weight decay applies to norms, biases and embeddings too. */
    public AdamW(List<Param> params, float beta1, float beta2, float eps, float weightDecay, boolean decayAll) {
        this.decayAll = decayAll;
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        m = new float[params.size()][];
        v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).size()];
            v[i] = new float[params.get(i).size()];
        }
    }

    /** How many updates have been made (t in the bias corrections). */
    public long stepCount() {
        return step;
    }

    public void setStepCount(long t) {
        step = t;
        beta1Power = beta2Power = 1;
        for (long i = 0; i < t; i++) { // the same products, in the same order, as t steps make: a resumed run goes on exactly
            beta1Power *= beta1;
            beta2Power *= beta2;
        }
    }

    // β₁ᵗ and β₂ᵗ for the bias corrections, one product per step (StrictMath.pow allocates, and a step must not)
    private double beta1Power = 1, beta2Power = 1;

    /** One update of every parameter from its accumulated gradient. */
    public void step(float lr) {
        step++;
        beta1Power *= beta1;
        beta2Power *= beta2;
        double bc1 = 1 - beta1Power, bc2 = 1 - beta2Power;
        stepSize = (float) (lr / bc1);
        bc2Sqrt = (float) Math.sqrt(bc2);
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            w = p.value();
            g = p.grad();
            mk = m[k];
            vk = v[k];
            decay = p.decay || decayAll ? 1f - lr * weightDecay : 1f;
            Parallel.forRange(w.length, 16384, update); // every element on its own: any split gives the same weights
        }
        w = g = mk = vk = null;
    }

    // the parameter being updated, for update: fields, not a lambda's captures, so a step allocates nothing
    private float[] w, g, mk, vk;
    private float decay, stepSize, bc2Sqrt;
    private final Parallel.RangeTask update = this::update;

    private void update(int from, int to) {
        float[] w = this.w, g = this.g, mk = this.mk, vk = this.vk;
        float decay = this.decay, stepSize = this.stepSize, bc2Sqrt = this.bc2Sqrt, beta1 = this.beta1, beta2 = this.beta2, eps = this.eps;
        for (int i = from; i < to; i++) {
            w[i] *= decay;
            mk[i] = mk[i] * beta1 + (1 - beta1) * g[i];
            vk[i] = vk[i] * beta2 + (1 - beta2) * g[i] * g[i];
            w[i] -= stepSize * mk[i] / ((float) Math.sqrt(vk[i]) / bc2Sqrt + eps);
        }
    }
}
