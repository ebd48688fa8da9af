package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LayerNorm and RMSNorm against plain double-precision loops, at a width of whole vectors plus a
 * tail (40 = 16 + 16 + 8 on AVX-512: the masked last vector of each row) and a row count that is
 * not a multiple of the threads' shares; the parameter gradients add to what is there.
 */
class NormTest {
    static final int ROWS = 7, D = 40;

    @Test
    void layerNormMatchesTheDefinition() {
        Rng rng = new Rng(11);
        LayerNorm n = new LayerNorm("n", D, 1e-5f, true);
        AttentionTest.randomize(n.params(), rng);
        float[] x = AttentionTest.random(rng, ROWS * D), dy = AttentionTest.random(rng, ROWS * D);
        System.arraycopy(AttentionTest.random(rng, D), 0, n.weight.grad(), 0, D); // gradients add to what is there
        System.arraycopy(AttentionTest.random(rng, D), 0, n.bias.grad(), 0, D);
        float[] g0 = n.weight.grad().clone(), b0 = n.bias.grad().clone();
        float[] y = n.forward(x, ROWS).clone(), dx = n.backward(dy);
        double[] dg = new double[D], db = new double[D];
        for (int r = 0; r < ROWS; r++) {
            double mean = 0, var = 0, mg = 0, mgx = 0;
            for (int i = 0; i < D; i++) mean += x[r * D + i] / (double) D;
            for (int i = 0; i < D; i++) var += Math.pow(x[r * D + i] - mean, 2) / D;
            double rs = 1 / Math.sqrt(var + 1e-5);
            for (int i = 0; i < D; i++) {
                double h = (x[r * D + i] - mean) * rs, g = dy[r * D + i] * n.weight.value()[i];
                assertEquals(h * n.weight.value()[i] + n.bias.value()[i], y[r * D + i], 1e-4, "y");
                mg += g / D;
                mgx += g * h / D;
                dg[i] += dy[r * D + i] * h;
                db[i] += dy[r * D + i];
            }
            for (int i = 0; i < D; i++) {
                double h = (x[r * D + i] - mean) * rs;
                assertEquals((dy[r * D + i] * n.weight.value()[i] - mg - h * mgx) * rs, dx[r * D + i], 1e-4, "dx");
            }
        }
        for (int i = 0; i < D; i++) {
            assertEquals(g0[i] + dg[i], n.weight.grad()[i], 1e-4, "dγ column " + i);
            assertEquals(b0[i] + db[i], n.bias.grad()[i], 1e-4, "dβ column " + i);
        }
    }

    @Test
    void rmsNormMatchesTheDefinition() {
        Rng rng = new Rng(12);
        RmsNorm n = new RmsNorm("n", D, 1e-6f);
        AttentionTest.randomize(n.params(), rng);
        float[] x = AttentionTest.random(rng, ROWS * D), dy = AttentionTest.random(rng, ROWS * D);
        System.arraycopy(AttentionTest.random(rng, D), 0, n.weight.grad(), 0, D);
        float[] g0 = n.weight.grad().clone();
        float[] y = n.forward(x, ROWS).clone(), dx = n.backward(dy);
        double[] dg = new double[D];
        for (int r = 0; r < ROWS; r++) {
            double ms = 0, dot = 0;
            for (int i = 0; i < D; i++) ms += (double) x[r * D + i] * x[r * D + i] / D;
            double rs = 1 / Math.sqrt(ms + 1e-6);
            for (int i = 0; i < D; i++) {
                assertEquals(x[r * D + i] * rs * n.weight.value()[i], y[r * D + i], 1e-4, "y");
                dot += (double) dy[r * D + i] * n.weight.value()[i] * x[r * D + i];
                dg[i] += dy[r * D + i] * x[r * D + i] * rs;
            }
            for (int i = 0; i < D; i++) {
                double want = dy[r * D + i] * n.weight.value()[i] * rs - x[r * D + i] * dot / D * rs * rs * rs;
                assertEquals(want, dx[r * D + i], 1e-4, "dx");
            }
        }
        for (int i = 0; i < D; i++) assertEquals(g0[i] + dg[i], n.weight.grad()[i], 1e-4, "dγ column " + i);
    }
}
