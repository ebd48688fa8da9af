package dev.llmj.cli;

import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FloatVector FMA peak of this machine, measured rather than assumed (benchmarks run on whatever
 * CPU they are given): every thread runs 24 independent chains of FMAs held in registers, the shape
 * of the matmul's micro-kernel with no memory traffic, and the best of several rounds counts.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ROUNDS = 40, STEPS = 100_000; // a round: 24 · 100,000 FMAs per thread, about a millisecond
    private static final int CHAINS = 24;

    private FmaPeak() {}

    /** GFLOPS (2 per lane per FMA) of all {@code threads} at once: the best round of each thread, added. */
    static double gflops(int threads) {
        double[] best = new double[threads];
        float[] sink = new float[threads];
        for (int round = 0; round < ROUNDS; round++) {
            Parallel.forRange(threads, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    long t0 = System.nanoTime();
                    sink[t] += chains(STEPS, 1f + t * 1e-9f);
                    double ns = System.nanoTime() - t0;
                    best[t] = Math.max(best[t], 2.0 * CHAINS * S.length() * STEPS / ns);
                }
            });
        }
        double sum = 0;
        for (double b : best) sum += b;
        return sum;
    }

    /** 24 chains a ← a·m + c, {@code steps} times each: a result the JIT cannot drop. */
    private static float chains(int steps, float m) {
        FloatVector vm = FloatVector.broadcast(S, m), c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 0.1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        FloatVector a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
        for (int i = 0; i < steps; i++) {
            a0 = a0.fma(vm, c); a1 = a1.fma(vm, c); a2 = a2.fma(vm, c); a3 = a3.fma(vm, c);
            a4 = a4.fma(vm, c); a5 = a5.fma(vm, c); a6 = a6.fma(vm, c); a7 = a7.fma(vm, c);
            a8 = a8.fma(vm, c); a9 = a9.fma(vm, c); a10 = a10.fma(vm, c); a11 = a11.fma(vm, c);
            a12 = a12.fma(vm, c); a13 = a13.fma(vm, c); a14 = a14.fma(vm, c); a15 = a15.fma(vm, c);
            a16 = a16.fma(vm, c); a17 = a17.fma(vm, c); a18 = a18.fma(vm, c); a19 = a19.fma(vm, c);
            a20 = a20.fma(vm, c); a21 = a21.fma(vm, c); a22 = a22.fma(vm, c); a23 = a23.fma(vm, c);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .add(a12).add(a13).add(a14).add(a15).add(a16).add(a17).add(a18).add(a19).add(a20).add(a21).add(a22).add(a23);
        return s.lane(0);
    }
}
