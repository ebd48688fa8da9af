package dev.llmj.tensor;

/**
 * The one source of randomness: a SplitMix64 generator whose whole state is one {@code long}, so
 * a training run can save it in a checkpoint and resume with exactly the same stream.
 */
public final class Rng {
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    /** The whole state; {@code new Rng(0).setState(s)} continues this stream exactly. */
    public long state() {
        return state;
    }

    public void setState(long state) {
        this.state = state;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in {@code [0, bound)}, without modulo bias. */
    public long nextLong(long bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive: " + bound);
        long limit = Long.remainderUnsigned(-bound, bound); // reject the first 2^64 mod bound values
        while (true) {
            long r = nextLong();
            if (Long.compareUnsigned(r, limit) >= 0) return Long.remainderUnsigned(r, bound);
        }
    }

    public int nextInt(int bound) {
        return (int) nextLong(bound);
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Standard normal, by Box–Muller (one value per call; deterministic). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log stays finite
        double u2 = nextDouble();
        return Math.sqrt(-2 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
    }
}
