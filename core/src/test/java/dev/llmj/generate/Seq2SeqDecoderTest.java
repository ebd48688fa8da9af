package dev.llmj.generate;

import dev.llmj.model.ModelConfig;
import dev.llmj.model.Seq2SeqCache;
import dev.llmj.model.Seq2SeqConfig;
import dev.llmj.model.Seq2SeqLM;
import dev.llmj.nn.Activation;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cached decoder against the teacher-forced forward, and greedy and beam search. */
class Seq2SeqDecoderTest {
    static final int V = 12, BOS = 1, EOS = 2;

    static Seq2SeqLM model(boolean normFirst, long seed) {
        Seq2SeqLM m = new Seq2SeqLM(new Seq2SeqConfig(V, 10, 16, 2, 2, 4, 32, Activation.RELU, normFirst, 0f, 1e-5f,
                ModelConfig.Position.SINUSOIDAL), seed);
        Rng r = new Rng(seed + 7);
        for (Param p : m.params()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) v[i] += (float) (r.nextGaussian() * 0.2);
        }
        return m;
    }

    /** Σ log p(target[t] | source, target[..t]) by the teacher-forced forward (the target ends with eos if finished). */
    static double teacherForcedLogProb(Seq2SeqLM m, int[] src, int[] ids, boolean finished) {
        int n = ids.length + (finished ? 1 : 0);
        int[] in = new int[n], out = new int[n];
        in[0] = BOS;
        for (int t = 0; t < n; t++) {
            if (t > 0) in[t] = ids[t - 1];
            out[t] = t < ids.length ? ids[t] : EOS;
        }
        float[] logits = m.forward(src, null, 1, src.length, in, null, n, false);
        float[] lp = new float[n * V];
        double sum = 0;
        for (int t = 0; t < n; t++) {
            Seq2SeqDecoder.logSoftmax(logits, t * V, V, lp);
            sum += lp[t * V + out[t]];
        }
        return sum;
    }

    @Test
    void cachedStepsGiveTheTeacherForcedLogitsForBothNormPlacements() {
        for (boolean normFirst : new boolean[] {false, true}) {
            Seq2SeqLM m = model(normFirst, normFirst ? 3 : 4);
            int[] src = {5, 7, 3, 9, 4}, tgt = {BOS, 6, 8, 3, 11, 4};
            float[] full = m.forward(src, null, 1, src.length, tgt, null, tgt.length, false).clone();
            // three beams' rows: row 1 decodes the target, rows 0 and 2 other tokens, so rows must not mix
            Seq2SeqCache cache = m.startDecoding(src, 3);
            for (int t = 0; t < tgt.length; t++) {
                float[] step = m.decodeStep(new int[] {3, tgt[t], 5 + t}, 3, cache);
                for (int j = 0; j < V; j++) assertEquals(full[t * V + j], step[V + j], 2e-5f, "norm_first " + normFirst + " position " + t + " logit " + j);
            }
            assertEquals(tgt.length, cache.length(1));
        }
    }

    @Test
    void reorderedRowsContinueAsTheirParents() {
        Seq2SeqLM m = model(false, 5);
        int[] src = {5, 7, 3};
        Seq2SeqCache cache = m.startDecoding(src, 2);
        m.decodeStep(new int[] {BOS, BOS}, 2, cache);
        m.decodeStep(new int[] {6, 9}, 2, cache);
        cache.reorder(new int[] {1, 1}, 2); // both rows now hold bos, 9
        float[] a = m.decodeStep(new int[] {4, 4}, 2, cache).clone();
        float[] full = m.forward(src, null, 1, src.length, new int[] {BOS, 9, 4}, null, 3, false);
        for (int j = 0; j < V; j++) {
            assertEquals(full[2 * V + j], a[j], 2e-5f);
            assertEquals(full[2 * V + j], a[V + j], 2e-5f);
        }
    }

    @Test
    void beamOfWidthOneIsGreedyAndScoresAreTheModelsLogProbabilities() {
        for (long seed = 10; seed < 14; seed++) {
            Seq2SeqLM m = model(seed % 2 == 0, seed);
            int[] src = {3 + (int) (seed % 5), 8, 6, 4};
            Seq2SeqDecoder.Result greedy = Seq2SeqDecoder.greedy(Seq2SeqDecoder.steps(m, src, 1), BOS, EOS, 8);
            Seq2SeqDecoder.Result beam1 = Seq2SeqDecoder.beam(Seq2SeqDecoder.steps(m, src, 1), BOS, EOS, 1, 0, 8);
            assertArrayEquals(greedy.ids(), beam1.ids(), "seed " + seed);
            assertEquals(greedy.logProb(), beam1.logProb(), 1e-4);
            assertEquals(teacherForcedLogProb(m, src, greedy.ids(), greedy.finished()), greedy.logProb(), 1e-3);
            Seq2SeqDecoder.Result beam4 = Seq2SeqDecoder.beam(Seq2SeqDecoder.steps(m, src, 4), BOS, EOS, 4, 0.6, 8);
            assertEquals(teacherForcedLogProb(m, src, beam4.ids(), beam4.finished()), beam4.logProb(), 1e-3, "beam 4's log-probability");
            assertEquals(beam4.logProb() / Seq2SeqDecoder.lengthPenalty(beam4.ids().length + (beam4.finished() ? 1 : 0), 0.6), beam4.score(), 1e-9);
        }
    }

    /**
     * A constructed distribution where greedy loses: after bos, A has p 0.6 and B 0.4; after A every
     * token has p ≤ 0.3 (eos 0.3), after B eos has 0.9. Greedy takes A then eos: 0.18. Beam search
     * with two beams keeps B and finds B eos: 0.36.
     */
    @Test
    void beamSearchFindsTheMoreLikelyTargetGreedyMisses() {
        int a = 3, b = 4, v = 6;
        class Table implements Seq2SeqDecoder.Steps {
            int[][] prefix = {{}, {}, {}, {}};
            final float[] out = new float[4 * v];

            @Override
            public float[] step(int[] tokens, int n) {
                for (int r = 0; r < n; r++) {
                    int[] p = tokens[r] == BOS ? new int[0] : java.util.Arrays.copyOf(prefix[r], prefix[r].length + 1);
                    if (tokens[r] != BOS) p[p.length - 1] = tokens[r];
                    prefix[r] = p;
                    double[] probs = new double[v];
                    if (p.length == 0) { probs[a] = 0.6; probs[b] = 0.4; }
                    else if (p[0] == a) { probs[EOS] = 0.3; probs[0] = 0.25; probs[1] = 0.05; probs[a] = 0.2; probs[b] = 0.1; probs[5] = 0.1; }
                    else { probs[EOS] = 0.9; probs[a] = 0.1; }
                    for (int j = 0; j < v; j++) out[r * v + j] = (float) Math.log(Math.max(probs[j], 1e-9));
                }
                return out;
            }

            @Override
            public void reorder(int[] parents, int n) {
                int[][] copy = new int[4][];
                for (int r = 0; r < n; r++) copy[r] = prefix[parents[r]];
                for (int r = n; r < 4; r++) copy[r] = new int[0];
                prefix = copy;
            }

            @Override
            public int vocabSize() {
                return v;
            }
        }
        Seq2SeqDecoder.Result greedy = Seq2SeqDecoder.greedy(new Table(), BOS, EOS, 5);
        Seq2SeqDecoder.Result beam = Seq2SeqDecoder.beam(new Table(), BOS, EOS, 2, 0, 5);
        assertArrayEquals(new int[] {a}, greedy.ids());
        assertEquals(Math.log(0.18), greedy.logProb(), 1e-6);
        assertArrayEquals(new int[] {b}, beam.ids());
        assertEquals(Math.log(0.36), beam.logProb(), 1e-6);
        assertTrue(beam.score() > greedy.score());
    }

    @Test
    void lengthPenaltyIsGnmts() {
        assertEquals(1.0, Seq2SeqDecoder.lengthPenalty(1, 0.6), 1e-12);
        assertEquals(Math.pow(11 / 6.0, 0.6), Seq2SeqDecoder.lengthPenalty(6, 0.6), 1e-12);
        assertEquals(1.0, Seq2SeqDecoder.lengthPenalty(9, 0), 1e-12);
    }
}
