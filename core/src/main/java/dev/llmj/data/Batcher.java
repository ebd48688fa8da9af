package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.tensor.Rng;

/**
 * Random training windows, exactly the tutorial's table: each of the B rows is a window of T + 1
 * consecutive tokens starting at a seeded random position; {@code input_ids} are its first T
 * tokens and {@code labels} the same tokens shifted by one (the next token at every position).
 * The arrays are filled in place on each call (no allocation per step); the whole state is the
 * generator's, so a resumed run draws the same windows.
 */
public final class Batcher implements BatchSource<Batcher.Batch> {
    private final TokenFile.Slice data;
    private final int batchSize;
    private final int contextLength;
    private final Rng rng;
    private final int[] window;
    private final Batch batch;

    /** One batch: {@code [B, T]} ids and labels, row-major ({@code inputIds[b·T + t]}). */
    public record Batch(int batchSize, int contextLength, int[] inputIds, int[] labels) {
        public int input(int b, int t) {
            return inputIds[b * contextLength + t];
        }

        public int label(int b, int t) {
            return labels[b * contextLength + t];
        }
    }

    public Batcher(TokenFile.Slice data, int batchSize, int contextLength, long seed) {
        if (batchSize < 1 || contextLength < 1) {
            throw new LlmjException("batch size and context length must be at least 1 (got " + batchSize + " and " + contextLength + ")");
        }
        requireWindow(data, contextLength);
        this.data = data;
        this.batchSize = batchSize;
        this.contextLength = contextLength;
        this.rng = new Rng(seed);
        this.window = new int[contextLength + 1];
        this.batch = new Batch(batchSize, contextLength, new int[batchSize * contextLength], new int[batchSize * contextLength]);
    }

    /** Fails unless {@code data} holds at least one window of {@code contextLength} + 1 tokens. */
    static void requireWindow(TokenFile.Slice data, int contextLength) {
        if (data.length() < contextLength + 1L) {
            throw new LlmjException("the data has " + data.length() + " tokens, fewer than one window of context length + 1 = "
                    + (contextLength + 1) + "; use more text or a shorter --context-length");
        }
    }

    /** The next batch (the same arrays, refilled): B windows at random starts in [0, N − T − 1]. */
    @Override
    public Batch next() {
        long starts = data.length() - contextLength; // number of valid window starts
        for (int b = 0; b < batchSize; b++) {
            long start = rng.nextLong(starts);
            data.read(start, window, 0, contextLength + 1);
            System.arraycopy(window, 0, batch.inputIds(), b * contextLength, contextLength);
            System.arraycopy(window, 1, batch.labels(), b * contextLength, contextLength);
        }
        return batch;
    }

    /** The generator state, for checkpoints. */
    @Override
    public long state() {
        return rng.state();
    }

    @Override
    public void setState(long state) {
        rng.setState(state);
    }
}
