package dev.llmj.data;

import dev.llmj.LlmjException;

/**
 * A language model's data: random windows of {@code contextLength} + 1 tokens ({@link Batcher})
 * from a training and a validation split of a token file.
 */
public final class TokenWindows implements TrainingData<Batcher.Batch> {
    private final TokenFile.Slice train, val;
    private final int contextLength;

    /** Both splits must hold a window now, so a short one is an error before training, not at the first evaluation. */
    public TokenWindows(TokenFile.Slice train, TokenFile.Slice val, int contextLength) {
        Batcher.requireWindow(train, contextLength);
        if (val.length() < contextLength + 1L) {
            throw new LlmjException("the validation split has " + val.length() + " tokens, fewer than one window of " + (contextLength + 1));
        }
        this.train = train;
        this.val = val;
        this.contextLength = contextLength;
    }

    @Override
    public Batcher batches(boolean validation, int batchSize, long seed) {
        return new Batcher(validation ? val : train, batchSize, contextLength, seed);
    }
}
