package dev.llmj.model;

import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;

import java.util.List;

/**
 * What the training loop trains: a forward pass with its loss on one batch, the backward pass, and
 * the parameters AdamW updates. {@code B} is the kind of batch the model learns from (a
 * {@link dev.llmj.data.Batcher.Batch} of next-token windows for a decoder). Writing the model
 * folder is not here but a {@link dev.llmj.train.Trainer.Saver}, because the folder layout ({@code dev.llmj.io})
 * depends on the models.
 */
public interface Trainable<B> {
    /** Every trainable parameter once, in a fixed order (the optimizer's and the checkpoint's). */
    List<Param> params();

    /** Forward on {@code batch} (dropout on when {@code training}) and the mean loss over its labelled positions; prepares {@link #backward}. */
    float forwardLoss(B batch, boolean training);

    /** The real tokens {@code batch} feeds the model (padding not counted): what tokens/s counts. */
    long tokens(B batch);

    /** Accumulates every parameter's gradient of the last {@link #forwardLoss}. */
    void backward();

    default void zeroGrad() {
        for (Param p : params()) p.zeroGrad();
    }

    /** The dropout generator, saved in checkpoints so a resumed run drops the same units. */
    Rng rng();
}
