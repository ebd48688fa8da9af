package dev.llmj.train;

/**
 * nanoGPT's schedule: linear warm-up to {@code maxLr} over {@code warmup} steps, then a cosine
 * decay to {@code minLr} at step {@code decaySteps}, and {@code minLr} after that.
 */
public record LrSchedule(float maxLr, float minLr, int warmup, int decaySteps) {
    public float at(int step) {
        if (step < warmup) return maxLr * (step + 1) / (warmup + 1);
        if (step > decaySteps) return minLr;
        double ratio = (step - warmup) / (double) Math.max(1, decaySteps - warmup);
        double coeff = 0.5 * (1 + StrictMath.cos(Math.PI * ratio));
        return (float) (minLr + coeff * (maxLr - minLr));
    }
}
