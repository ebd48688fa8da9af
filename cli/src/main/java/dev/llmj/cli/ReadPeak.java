package dev.llmj.cli;

import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;

/**
 * The memory-read roofline of decoding on the machine at hand, measured on the model's own weights
 * (so it costs no memory): every thread streams its share of the arrays front to back, as decoding
 * reads its weights' packed strips, adding them up with nothing else to do. Decoding reads every weight once
 * per token, so this rate over the bytes per token is the fastest it could go.
 */
final class ReadPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 1 << 16; // floats per task: 256 KB, a share a thread reads in one stream
    private static final int PASSES = 5;

    private ReadPeak() {}

    /** GB/s of reading arrays bare: the best pass (the roofline) and the median one (what a pass usually gets). */
    record Rate(double best, double median) {}

    /** GB/s of reading all of {@code arrays} on all threads, over five passes and half a second at least. */
    static Rate gbPerSec(List<float[]> arrays) {
        int chunks = 0;
        long bytes = 0;
        for (float[] a : arrays) {
            chunks += (a.length + CHUNK - 1) / CHUNK;
            bytes += (long) a.length * Float.BYTES;
        }
        float[][] arrayOf = new float[chunks][];
        int[] startOf = new int[chunks];
        for (int c = 0, i = 0; i < arrays.size(); i++) {
            for (int s = 0; s < arrays.get(i).length; s += CHUNK, c++) {
                arrayOf[c] = arrays.get(i);
                startOf[c] = s;
            }
        }
        float[] sink = new float[chunks];
        List<Double> rates = new java.util.ArrayList<>();
        // at least half a second of passes: until the JIT has compiled the sum, a pass runs its vectors as objects
        for (long start = System.nanoTime(), pass = 0; pass < PASSES || System.nanoTime() - start < 500_000_000L; pass++) {
            long t0 = System.nanoTime();
            Parallel.forRange(chunks, 1, (from, to) -> {
                for (int c = from; c < to; c++) sink[c] = sum(arrayOf[c], startOf[c], Math.min(arrayOf[c].length, startOf[c] + CHUNK));
            });
            rates.add(bytes / (double) (System.nanoTime() - t0));
        }
        java.util.Collections.sort(rates);
        return new Rate(rates.get(rates.size() - 1), rates.get(rates.size() / 2));
    }

    /** a[from…to) added in four vector chains: a result the JIT cannot drop. */
    private static float sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = from, l = S.length();
        for (; i + 4 * l <= to; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(S, a, i));
            s1 = s1.add(FloatVector.fromArray(S, a, i + l));
            s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * l));
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }
}
