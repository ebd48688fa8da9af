package dev.llmj.data;

/**
 * A seeded stream of batches whose whole state is one long, saved in checkpoints so that a resumed
 * run draws the same batches. {@link #next} may refill and return the same object each time.
 */
public interface BatchSource<B> {
    B next();

    long state();

    void setState(long state);
}
