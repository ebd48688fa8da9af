package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attention's vector softmax and its backward against the formulas in double, at every row length around the vector width. */
class SoftmaxTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Test
    void vectorExpGivesTheScalarTwinsBitsOnEveryLane() {
        int L = S.length();
        float[] x = new float[L], out = new float[L];
        Rng r = new Rng(3);
        for (int k = 0; k < 20_000; k++) {
            for (int i = 0; i < L; i++) x[i] = (float) ((r.nextDouble() - 0.5) * 200); // both clamps and everything between
            if (k == 0) {
                x[0] = Float.NEGATIVE_INFINITY;
                x[1] = Float.POSITIVE_INFINITY;
                x[2] = -87.33654f;
                x[3] = 88f;
            }
            Activation.exp(FloatVector.fromArray(S, x, 0)).intoArray(out, 0);
            for (int i = 0; i < L; i++) assertEquals(Float.floatToIntBits(Activation.exp(x[i])), Float.floatToIntBits(out[i]), "e^" + x[i]);
        }
    }

    @Test
    void rowIsTheSoftmaxOfTheScaledRowWithMaskedEntriesExactlyZero() {
        Rng r = new Rng(7);
        for (int n = 1; n <= 3 * S.length() + 1; n++) {
            int o = 5;
            float[] p = new float[o + n + 3], x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 4);
            if (n > 2) x[n / 2] = Float.NEGATIVE_INFINITY; // a padding key
            System.arraycopy(x, 0, p, o, n);
            p[o - 1] = p[o + n] = 42f;                    // neighbours: untouched
            float scale = 0.35f;
            assertTrue(Softmax.row(p, o, n, scale));
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : x) max = Math.max(max, (double) scale * v);
            for (float v : x) sum += Math.exp((double) scale * v - max);
            double total = 0;
            for (int i = 0; i < n; i++) {
                double want = Math.exp((double) scale * x[i] - max) / sum;
                assertEquals(want, p[o + i], 2e-6 * want + 1e-9, "n=" + n + " i=" + i);
                total += p[o + i];
            }
            if (n > 2) assertEquals(0f, p[o + n / 2], "a masked key's weight is exactly 0");
            assertEquals(1.0, total, 1e-5);
            assertEquals(42f, p[o - 1]);
            assertEquals(42f, p[o + n]);
        }
        float[] masked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertFalse(Softmax.row(masked, 0, 3, 1f), "no real key: no distribution");
    }

    @Test
    void rowBackwardIsPTimesGMinusItsMeanUnderP() {
        Rng r = new Rng(11);
        for (int n = 1; n <= 3 * S.length() + 1; n++) {
            float[] p = new float[n + 2], g = new float[n + 4];
            double sum = 0;
            for (int i = 0; i < n; i++) sum += p[i + 2] = (float) Math.exp(r.nextGaussian());
            for (int i = 0; i < n; i++) p[i + 2] /= (float) sum;
            for (int i = 0; i < n; i++) g[i + 1] = (float) r.nextGaussian();
            g[0] = g[n + 1] = 42f;
            float[] g0 = g.clone();
            double pg = 0;
            for (int i = 0; i < n; i++) pg += (double) p[i + 2] * g0[i + 1];
            Softmax.rowBackward(p, 2, g, 1, n, 0.25f);
            for (int i = 0; i < n; i++) {
                double want = p[i + 2] * (g0[i + 1] - pg) * 0.25;
                assertEquals(want, g[i + 1], 1e-6, "n=" + n + " i=" + i);
            }
            assertEquals(42f, g[0]);
            assertEquals(42f, g[n + 1]);
        }
    }
}
