package dev.llmj.data;

/**
 * The data of a run: the training stream, and fresh streams from which the trainer estimates the
 * training and validation loss. Equal arguments give equal streams.
 */
public interface TrainingData<B> {
    /** A stream of {@code batchSize}-row batches from the validation split (or the training split), seeded by {@code seed}. */
    BatchSource<B> batches(boolean validation, int batchSize, long seed);
}
