package dev.llmj.nn;

import dev.llmj.tensor.Parallel;

/**
 * Softmax and cross-entropy in one pass: loss = mean over positions whose label is not
 * {@link #IGNORE} of −log softmax(logits)[label], and its gradient with respect to the logits,
 * (softmax − one-hot) / count, written in place of nothing else. A row is attention's vector
 * softmax ({@link Softmax}: the max, then e^(logit − max) and their sum in float lanes, in a fixed
 * order); a scalar {@code Math.exp} twice per logit took 1.4% of a small-t128 step (vocabulary 65),
 * and a GPT-2 vocabulary makes that 50,257 per position.
 */
public final class CrossEntropy {
    /** A label that contributes no loss (padding). */
    public static final int IGNORE = -100;

    private CrossEntropy() {}

    /**
     * @param logits  [R, V]
     * @param labels  [R]
     * @param dlogits [R, V], overwritten with ∂loss/∂logits (may be null to skip the gradient)
     * @param rowLoss [R], filled with each position's loss (0 where ignored)
     * @return the mean loss over the counted positions (NaN if none is counted)
     */
    public static float forwardBackward(float[] logits, int[] labels, int rows, int vocab, float[] dlogits, float[] rowLoss) {
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (labels[r] != IGNORE) {
                if (labels[r] < 0 || labels[r] >= vocab) throw new IllegalArgumentException("label " + labels[r] + " outside [0, " + vocab + ")");
                count++;
            }
        }
        Rows t = ROWS.get();
        t.set(logits, labels, vocab, dlogits, rowLoss, count == 0 ? 0f : 1f / count);
        Parallel.forRange(rows, 16, t);
        t.set(null, null, 0, null, null, 0f);
        double total = 0;
        for (int r = 0; r < rows; r++) total += rowLoss[r]; // in position order: the same on any thread count
        return count == 0 ? Float.NaN : (float) (total / count);
    }

    /** The rows' parallel region with its arguments in fields, one per calling thread: a step allocates nothing. */
    private static final class Rows implements Parallel.RangeTask {
        float[] logits, dlogits, rowLoss;
        int[] labels;
        int vocab;
        float inv;

        void set(float[] logits, int[] labels, int vocab, float[] dlogits, float[] rowLoss, float inv) {
            this.logits = logits;
            this.labels = labels;
            this.vocab = vocab;
            this.dlogits = dlogits;
            this.rowLoss = rowLoss;
            this.inv = inv;
        }

        @Override
        public void run(int r0, int r1) {
            float[] logits = this.logits, dlogits = this.dlogits, rowLoss = this.rowLoss;
            int[] labels = this.labels;
            int vocab = this.vocab;
            float inv = this.inv;
            for (int r = r0; r < r1; r++) {
                int o = r * vocab, y = labels[r];
                if (y == IGNORE) {
                    rowLoss[r] = 0f;
                    if (dlogits != null) java.util.Arrays.fill(dlogits, o, o + vocab, 0f);
                    continue;
                }
                // the row's e^(logit − max) go where its gradient will be (or into this thread's scratch), then × 1/(sum·count)
                float[] e = dlogits != null ? dlogits : scratch(vocab);
                int eo = dlogits != null ? o : 0;
                float max = Softmax.max(logits, o, vocab);
                float sum = Softmax.expAndSum(logits, o, e, eo, vocab, 1f, max);
                rowLoss[r] = (float) (StrictMath.log(sum) - (logits[o + y] - max));
                if (dlogits != null) {
                    Softmax.multiply(dlogits, o, vocab, inv / sum);
                    dlogits[o + y] -= inv;
                }
            }
        }
    }

    /** This thread's scratch of at least n floats, for the exponentials of a row whose gradient is not wanted. */
    private static float[] scratch(int n) {
        float[] a = SCRATCH.get();
        if (a.length < n) SCRATCH.set(a = new float[n]);
        return a;
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private static final ThreadLocal<Rows> ROWS = ThreadLocal.withInitial(Rows::new);
}
