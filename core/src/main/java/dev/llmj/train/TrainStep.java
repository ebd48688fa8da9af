package dev.llmj.train;

import dev.llmj.model.Trainable;
import dev.llmj.nn.Param;

import java.util.List;
import java.util.function.Supplier;

/**
 * One optimizer step, the calls {@link Trainer#run} makes for each step: zero the gradients; for
 * each micro-batch forward, loss, backward; average the gradients over the micro-batches; clip the
 * global norm; AdamW. It lives apart from the training loop so that {@code llmj bench train} times
 * exactly these calls, on random batches, without a corpus or a model folder.
 */
public final class TrainStep<B> {
    private final Trainable<B> model;
    private final List<Param> params;
    private final AdamW adam;
    private final int gradAccum;
    private final float gradClip;
    private float loss, gradNorm;
    private long tokens;

    /** {@code params} are the ones {@code adam} updates (the model's, in {@link Trainable#params()} order). */
    public TrainStep(Trainable<B> model, List<Param> params, AdamW adam, int gradAccum, float gradClip) {
        if (gradAccum < 1) throw new IllegalArgumentException("gradAccum must be at least 1");
        this.model = model;
        this.params = params;
        this.adam = adam;
        this.gradAccum = gradAccum;
        this.gradClip = gradClip;
    }

    /** A step with its own AdamW, set up from {@code cfg} as {@link Trainer} sets up its own. */
    public static <B> TrainStep<B> of(Trainable<B> model, TrainConfig cfg) {
        List<Param> ps = model.params();
        AdamW adam = new AdamW(ps, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), cfg.decayAll());
        return new TrainStep<>(model, ps, adam, cfg.gradAccum(), cfg.gradClip());
    }

    /**
     * Runs one step on {@code gradAccum} micro-batches from {@code batches} at learning rate
     * {@code lr}. Returns false, having updated nothing, when a micro-batch's loss is not finite
     * (then {@link #loss()} is that loss, and backward was not run) or the gradient norm is not
     * finite (then {@link #gradNorm()} is that norm); the caller says what to do about it.
     */
    public boolean run(Supplier<B> batches, float lr) {
        for (int i = 0; i < params.size(); i++) params.get(i).zeroGrad(); // the model's own list: model.zeroGrad() would build it anew
        loss = 0f;
        gradNorm = Float.NaN;
        for (int micro = 0; micro < gradAccum; micro++) {
            B batch = batches.get();
            tokens += model.tokens(batch);
            float l = model.forwardLoss(batch, true);
            if (!Float.isFinite(l)) {
                loss = l;
                return false;
            }
            loss += l / gradAccum;
            model.backward();
        }
        if (gradAccum > 1) Trainer.scaleGrads(params, 1f / gradAccum);
        gradNorm = gradClip > 0 ? Trainer.clipGradNorm(params, gradClip) : Trainer.gradNorm(params);
        if (!Float.isFinite(gradNorm)) return false;
        adam.step(lr);
        return true;
    }

    /** Real tokens read by every step so far (the numerator of tokens/s). */
    public long tokens() {
        return tokens;
    }

    /** The last step's mean loss over its micro-batches (or the loss that was not finite). */
    public float loss() {
        return loss;
    }

    /** The last step's global gradient norm before clipping (NaN if it stopped at the loss). */
    public float gradNorm() {
        return gradNorm;
    }
}
