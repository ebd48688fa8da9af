package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bidirectional and cross-attention with padding masks, and blocks with post-norm and
 * cross-attention: backward against central finite differences, and the masks' promises.
 */
class AttentionTest {
    static final int B = 2, T = 5, TM = 4, D = 8, H = 2;
    // row 0 is 5 real tokens; row 1 has 3 real tokens and 2 of padding
    static final boolean[] VALID = {true, true, true, true, true, true, true, true, false, false};
    // the memory: row 0 all real, row 1 has 2 real positions
    static final boolean[] MEM_VALID = {true, true, true, true, true, true, false, false};

    static float[] random(Rng r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void randomize(List<Param> ps, Rng r) {
        for (Param p : ps) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.4 + (p.shape.length == 1 && p.name.endsWith("weight") ? 1 : 0));
        }
    }

    /** L = Σ R·y over the real query rows only (padding rows' outputs are never used). */
    static double loss(float[] y, float[] r, boolean[] valid) {
        double l = 0;
        for (int i = 0; i < y.length; i++) if (valid == null || valid[i / D]) l += (double) y[i] * r[i];
        return l;
    }

    static float[] lossGrad(float[] r, boolean[] valid) {
        float[] g = r.clone();
        for (int i = 0; i < g.length; i++) if (valid != null && !valid[i / D]) g[i] = 0f;
        return g;
    }

    /** Central differences of {@code f} with respect to a[i], against {@code analytic[i]}, for every i. */
    static void check(String what, float[] a, float[] analytic, Supplier<Double> f) {
        float h = 1e-2f;
        for (int i = 0; i < a.length; i++) {
            float keep = a[i];
            a[i] = keep + h;
            double up = f.get();
            a[i] = keep - h;
            double down = f.get();
            a[i] = keep;
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, analytic[i], 2e-3 + 2e-2 * Math.abs(numeric), what + "[" + i + "]");
        }
    }

    @Test
    void bidirectionalAttentionWithPaddingMatchesFiniteDifferences() {
        Rng rng = new Rng(1);
        Attention a = new Attention("a", D, H, H, true, null, false);
        randomize(a.params(), rng);
        float[] x = random(rng, B * T * D), r = random(rng, B * T * D);
        Supplier<Double> f = () -> loss(a.forward(x, null, B, T, T, VALID), r, VALID);
        f.get();
        for (Param p : a.params()) p.zeroGrad();
        float[] dx = a.backward(lossGrad(r, VALID)).clone();
        check("dx", x, dx, f);
        for (Param p : a.params()) check(p.name, p.value(), p.grad().clone(), f);
    }

    @Test
    void crossAttentionMatchesFiniteDifferencesForQueriesAndMemory() {
        Rng rng = new Rng(2);
        Attention a = new Attention("c", D, H, H, true, null, false);
        randomize(a.params(), rng);
        float[] x = random(rng, B * T * D), m = random(rng, B * TM * D), r = random(rng, B * T * D);
        Supplier<Double> f = () -> loss(a.forward(x, m, B, T, TM, MEM_VALID), r, null);
        f.get();
        for (Param p : a.params()) p.zeroGrad();
        float[] dx = a.backward(r).clone(), dm = a.memoryGrad().clone();
        check("dx", x, dx, f);
        check("dmemory", m, dm, f);
        for (Param p : a.params()) check(p.name, p.value(), p.grad().clone(), f);
        // padding memory rows get no gradient: nothing attends to them
        for (int i = (TM + 2) * D; i < B * TM * D; i++) assertEquals(0f, dm[i], "padding memory row gradient");
    }

    @Test
    void paddingKeysGetExactlyZeroWeightAndMoreOfItChangesNothing() {
        Rng rng = new Rng(3);
        Attention a = new Attention("a", D, H, H, true, null, false);
        randomize(a.params(), rng);
        // one sentence of 3 tokens, alone (no padding) and in a batch row padded to 6 with garbage after it
        float[] sentence = random(rng, 3 * D);
        float[] alone = a.forward(sentence, null, 1, 3, 3, null).clone();
        float[] padded = random(rng, 6 * D);
        System.arraycopy(sentence, 0, padded, 0, 3 * D);
        boolean[] valid = {true, true, true, false, false, false};
        float[] y = a.forward(padded, null, 1, 6, 6, valid);
        for (int i = 0; i < 3 * D; i++) assertEquals(alone[i], y[i], 1e-6f, "real output " + i);
        float[] p = a.probs(); // [1, H, 6, 6]
        for (int h = 0; h < H; h++) for (int t = 0; t < 6; t++) for (int s = 3; s < 6; s++) assertEquals(0f, p[(h * 6 + t) * 6 + s], "weight on padding");
    }

    @Test
    void aQueryWithNoRealKeyGetsZeroWeightsNotNaN() {
        Rng rng = new Rng(4);
        Attention a = new Attention("c", D, H, H, true, null, false);
        randomize(a.params(), rng);
        float[] x = random(rng, 2 * D), m = random(rng, 3 * D);
        float[] y = a.forward(x, m, 1, 2, 3, new boolean[3]);
        for (float v : y) assertTrue(Float.isFinite(v));
        for (float w : a.probs()) assertEquals(0f, w);
        a.backward(random(rng, 2 * D));
        for (float g : a.memoryGrad()) assertEquals(0f, g);
    }

    @Test
    void causalSelfAttentionIsTheSameThroughTheGeneralForward() {
        Rng rng = new Rng(5);
        Attention a = new Attention("a", D, H, 1, true, null);
        randomize(a.params(), rng);
        float[] x = random(rng, B * T * D);
        float[] y1 = a.forward(x, B, T).clone();
        float[] y2 = a.forward(x, null, B, T, T, null);
        assertArrayEquals(y1, y2);
    }

    static Block block(boolean postNorm, boolean cross, Rng rng) {
        Block b = new Block(new LayerNorm("n1", D, 1e-5f, true), new Attention("a", D, H, H, true, null, !cross),
                cross ? new LayerNorm("nc", D, 1e-5f, true) : null, cross ? new Attention("c", D, H, H, true, null, false) : null,
                new LayerNorm("n2", D, 1e-5f, true), new Mlp("m", D, 2 * D, Activation.GELU_ERF, true), 0f, postNorm);
        randomize(b.params(), rng);
        return b;
    }

    void checkBlock(boolean postNorm, boolean cross, long seed) {
        Rng rng = new Rng(seed);
        Block b = block(postNorm, cross, rng);
        float[] h = random(rng, B * T * D), m = cross ? random(rng, B * TM * D) : null, r = random(rng, B * T * D);
        Supplier<Double> f = () -> loss(b.forward(h, B, T, VALID, m, TM, cross ? MEM_VALID : null, false, null), r, VALID);
        f.get();
        for (Param p : b.params()) p.zeroGrad();
        float[] dh = b.backward(lossGrad(r, VALID)).clone();
        check("dh", h, dh, f);
        if (cross) check("dmemory", m, b.memoryGrad().clone(), f);
        for (Param p : b.params()) check(p.name, p.value(), p.grad().clone(), f);
    }

    @Test
    void postNormEncoderBlockMatchesFiniteDifferences() {
        checkBlock(true, false, 6);
    }

    @Test
    void postNormDecoderBlockWithCrossAttentionMatchesFiniteDifferences() {
        checkBlock(true, true, 7);
    }

    @Test
    void preNormDecoderBlockWithCrossAttentionMatchesFiniteDifferences() {
        checkBlock(false, true, 8);
    }
}
