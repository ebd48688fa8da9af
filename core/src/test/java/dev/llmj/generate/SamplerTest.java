package dev.llmj.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Each sampling rule against the distribution it should draw from. */
class SamplerTest {
    static final float[] LOGITS = {1.0f, 3.0f, 0.5f, 2.5f, -1f, 2.0f};   // order by probability: 1, 3, 5, 0, 2, 4

    static GenerationConfig cfg(float temperature, int topK, float topP, float minP, float penalty) {
        return new GenerationConfig(1, temperature, topK, topP, minP, penalty, 0, List.of(), false);
    }

    static double[] softmax(float[] l, float t) {
        double[] p = new double[l.length];
        double sum = 0;
        for (int i = 0; i < l.length; i++) sum += (p[i] = Math.exp(l[i] / t));
        for (int i = 0; i < l.length; i++) p[i] /= sum;
        return p;
    }

    /** Empirical frequencies of 40,000 draws. */
    static double[] frequencies(GenerationConfig c, long seed) {
        Sampler s = new Sampler(c, LOGITS.length, seed);
        double[] f = new double[LOGITS.length];
        int n = 40_000;
        for (int k = 0; k < n; k++) f[s.sample(LOGITS, 0)] += 1.0 / n;
        return f;
    }

    static void assertDistribution(double[] want, double[] got) {
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0.01, "token " + i);
    }

    @Test
    void greedyTakesTheLargestLogit() {
        assertEquals(1, new Sampler(cfg(0f, 0, 1f, 0f, 1f), 6, 1).sample(LOGITS, 0));
        float[] shifted = new float[8];
        System.arraycopy(LOGITS, 0, shifted, 2, 6);
        assertEquals(1, new Sampler(cfg(0f, 0, 1f, 0f, 1f), 6, 1).sample(shifted, 2), "reads from the offset");
    }

    @Test
    void temperatureSamplesTheSoftmaxOfLogitsOverT() {
        assertDistribution(softmax(LOGITS, 1f), frequencies(cfg(1f, 0, 1f, 0f, 1f), 3));
        assertDistribution(softmax(LOGITS, 0.5f), frequencies(cfg(0.5f, 0, 1f, 0f, 1f), 4));
        assertDistribution(softmax(LOGITS, 2f), frequencies(cfg(2f, 0, 1f, 0f, 1f), 5));
    }

    @Test
    void topKKeepsTheKLikeliestRenormalised() {
        double[] p = softmax(LOGITS, 1f), want = new double[6];
        double z = p[1] + p[3];
        want[1] = p[1] / z;
        want[3] = p[3] / z;
        assertDistribution(want, frequencies(cfg(1f, 2, 1f, 0f, 1f), 6));
        assertEquals(1, new Sampler(cfg(1f, 1, 1f, 0f, 1f), 6, 9).sample(LOGITS, 0), "top-1 is greedy");
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        double[] p = softmax(LOGITS, 1f);   // p1 ≈ .44, p3 ≈ .27, p5 ≈ .16: the first two hold ≈ .71
        double[] want = new double[6];
        double z = p[1] + p[3] + p[5];
        want[1] = p[1] / z;
        want[3] = p[3] / z;
        want[5] = p[5] / z;
        assertDistribution(want, frequencies(cfg(1f, 0, 0.8f, 0f, 1f), 7));        // .71 < .8: a third token is needed
        double[] two = new double[6];
        two[1] = p[1] / (p[1] + p[3]);
        two[3] = p[3] / (p[1] + p[3]);
        assertDistribution(two, frequencies(cfg(1f, 0, 0.7f, 0f, 1f), 8));
        assertEquals(1, new Sampler(cfg(1f, 0, 0.01f, 0f, 1f), 6, 9).sample(LOGITS, 0), "a tiny p keeps only the best");
        // after top-k 3, p applies to the renormalised three: .71/.87 ≈ .82 ≥ .8, so two remain
        assertDistribution(two, frequencies(cfg(1f, 3, 0.8f, 0f, 1f), 10));
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        double[] p = softmax(LOGITS, 1f), want = new double[6];
        double floor = 0.5 * p[1], z = 0;
        for (int i = 0; i < 6; i++) if (p[i] >= floor) z += p[i];
        for (int i = 0; i < 6; i++) if (p[i] >= floor) want[i] = p[i] / z;   // tokens 1 and 3 (p3/p1 = e^-0.5 ≈ .61)
        assertDistribution(want, frequencies(cfg(1f, 0, 1f, 0.5f, 1f), 11));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler s = new Sampler(cfg(0f, 0, 1f, 0f, 2f), 6, 1);
        s.observe(1);                                      // 3.0 → 1.5: now 3 (2.5) is the best
        assertEquals(3, s.sample(LOGITS, 0));
        s.observe(3);                                      // 2.5 → 1.25: now 5 (2.0)
        assertEquals(5, s.sample(LOGITS, 0));
        Sampler neg = new Sampler(cfg(0f, 0, 1f, 0f, 2f), 2, 1);
        neg.observe(0);                                    // −1 → −2 < −1.5
        assertEquals(1, neg.sample(new float[] {-1f, -1.5f}, 0));
    }

    @Test
    void overALargeVocabularyTheFiltersKeepWhatTheyKeepOverAFullSort() {
        // 5,000 tokens, where the sampler sorts only the candidates a bound lets through: every draw must come from the
        // set a full sort in double keeps, and the likeliest tokens at their renormalised rates; 60 tied logits sit
        // across top-k 40's edge, where equal weights go by id, the higher first
        int vocab = 5000;
        float[] logits = new float[vocab];
        dev.llmj.tensor.Rng r = new dev.llmj.tensor.Rng(21);
        for (int i = 0; i < vocab; i++) logits[i] = (float) (r.nextGaussian() * 2);
        for (int i = 0; i < 60; i++) logits[100 + 37 * i] = 6.5f;
        for (GenerationConfig c : List.of(cfg(1f, 40, 1f, 0f, 1f), cfg(0.8f, 0, 0.9f, 0f, 1f), cfg(1f, 0, 1f, 0.05f, 1f),
                cfg(1f, 200, 0.5f, 0f, 1f), cfg(1.2f, 0, 0.95f, 0.01f, 1f))) {
            double[] want = keptByFullSort(logits, c);
            Sampler s = new Sampler(c, vocab, 5);
            double[] f = new double[vocab];
            int n = 20_000;
            for (int k = 0; k < n; k++) {
                int t = s.sample(logits, 0);
                assertTrue(want[t] > 0, c + ": token " + t + " is not among those kept");
                f[t] += 1.0 / n;
            }
            for (int i = 0; i < vocab; i++) if (want[i] > 0.02) assertEquals(want[i], f[i], 0.012, c + ": token " + i);
        }
    }

    /** Each token's chance under c, by the rules on a full sort (descending; equal weights by id, the higher first), in double. */
    static double[] keptByFullSort(float[] logits, GenerationConfig c) {
        int v = logits.length;
        double[] p = new double[v];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l / c.temperature());
        for (int i = 0; i < v; i++) sum += p[i] = Math.exp(logits[i] / c.temperature() - max);
        Integer[] ids = new Integer[v];
        for (int i = 0; i < v; i++) ids[i] = i;
        java.util.Arrays.sort(ids, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(b, a));
        int keep = c.topK() > 0 ? Math.min(c.topK(), v) : v;
        double kept = 0;
        for (int j = 0; j < keep; j++) kept += p[ids[j]];
        if (c.topP() < 1f) {
            double cum = 0;
            for (int j = 0; j < keep; j++) {
                cum += p[ids[j]];
                if (cum >= c.topP() * kept) {
                    keep = j + 1;
                    break;
                }
            }
        }
        double floor = c.minP() * p[ids[0]], total = 0;
        int n = 0;
        for (; n < keep && p[ids[n]] >= floor; n++) total += p[ids[n]];
        double[] want = new double[v];
        for (int j = 0; j < n; j++) want[ids[j]] = p[ids[j]] / total;
        return want;
    }

    @Test
    void theSameSeedDrawsTheSameSequence() {
        Sampler a = new Sampler(cfg(1f, 4, 0.9f, 0.05f, 1f), 6, 77), b = new Sampler(cfg(1f, 4, 0.9f, 0.05f, 1f), 6, 77);
        Sampler c = new Sampler(cfg(1f, 4, 0.9f, 0.05f, 1f), 6, 78);
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int k = 0; k < 64; k++) {
            sa.append(a.sample(LOGITS, 0));
            sb.append(b.sample(LOGITS, 0));
            sc.append(c.sample(LOGITS, 0));
        }
        assertEquals(sa.toString(), sb.toString());
        assertNotEquals(sa.toString(), sc.toString());
    }
}
