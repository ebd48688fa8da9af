package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.nn.Activation;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole encoder's backward against central finite differences of its own forward (sampled
 * entries of every parameter tensor), with padding, segments and ignored labels; and the property
 * BERT batching relies on: padding changes nothing at the real positions.
 */
class EncoderLMTest {
    static final int VOCAB = 13, B = 3, T = 5;
    static final int[] LENGTHS = {5, 3, 1};

    static List<EncoderConfig> variants() {
        return List.of(
                new EncoderConfig(VOCAB, 8, 12, 2, 3, 20, Activation.GELU_ERF, 2, 0f, 1e-12f),   // BERT's options
                new EncoderConfig(VOCAB, 6, 8, 1, 2, 16, Activation.GELU, 3, 0f, 1e-5f));
    }

    static boolean[] valid(int[] lengths, int time) {
        boolean[] v = new boolean[lengths.length * time];
        for (int b = 0; b < lengths.length; b++) for (int t = 0; t < lengths[b]; t++) v[b * time + t] = true;
        return v;
    }

    /** Non-zero biases and norm gains, larger weights: gradients tested away from the trivial point. */
    static void perturb(EncoderLM m, Rng r) {
        for (Param p : m.params()) {
            if (p.shape.length == 1) for (int i = 0; i < p.size(); i++) p.value()[i] += (float) (r.nextGaussian() * 0.1);
            else for (int i = 0; i < p.size(); i++) p.value()[i] *= 15f;
        }
    }

    @TestFactory
    Stream<DynamicTest> gradientsMatchFiniteDifferences() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(c.activation() + " d" + c.dModel(), () -> {
            EncoderLM m = new EncoderLM(c, 7);
            Rng r = new Rng(11);
            perturb(m, r);
            int[] ids = new int[B * T], segs = new int[B * T], labels = new int[B * T];
            boolean[] valid = valid(LENGTHS, T);
            for (int i = 0; i < B * T; i++) {
                ids[i] = r.nextInt(VOCAB);
                segs[i] = r.nextInt(c.typeVocabSize());
                labels[i] = valid[i] && r.nextDouble() < 0.6 ? r.nextInt(VOCAB) : CrossEntropy.IGNORE;
            }
            labels[0] = 4; // at least one label
            m.zeroGrad();
            m.forward(ids, segs, valid, B, T, false);
            m.loss(labels);
            m.backward();
            for (Param p : m.params()) {
                for (int k = 0; k < Math.min(p.size(), 5); k++) {
                    int i = (int) ((long) k * 7919 % p.size());
                    float keep = p.value()[i];
                    float h = 1e-2f;
                    p.value()[i] = keep + h;
                    m.forward(ids, segs, valid, B, T, false);
                    double up = m.loss(labels);
                    p.value()[i] = keep - h;
                    m.forward(ids, segs, valid, B, T, false);
                    double down = m.loss(labels);
                    p.value()[i] = keep;
                    double numeric = (up - down) / (2 * h);
                    assertEquals(numeric, p.grad()[i], 3e-2 * Math.abs(numeric) + 2e-4, p.name + "[" + i + "]");
                }
            }
        }));
    }

    /** After a larger batch, a smaller or differently shaped one (padding included) gives a fresh model's bits: logits, loss, every gradient. */
    @Test
    void aBatchAfterALargerOneGivesWhatAFreshModelGives() {
        for (EncoderConfig c : variants()) {
            EncoderLM used = new EncoderLM(c, 3);
            perturb(used, new Rng(2));
            run(used, c, 4, 6, 1);
            for (int[] shape : new int[][] {{2, 5}, {1, 6}, {3, 2}}) {
                int b = shape[0], t = shape[1];
                float[] usedOut = run(used, c, b, t, 2);
                EncoderLM fresh = new EncoderLM(c, 3);
                perturb(fresh, new Rng(2));
                assertArrayEquals(run(fresh, c, b, t, 2), usedOut, b + "x" + t + " logits and loss");
                for (int i = 0; i < fresh.params().size(); i++) {
                    assertArrayEquals(fresh.params().get(i).grad(), used.params().get(i).grad(), b + "x" + t + " " + fresh.params().get(i).name);
                }
            }
        }
    }

    /** Forward, loss and backward on random ids of shape b × t, the last row padded after one token: the b·t·V logits, then the loss. */
    private static float[] run(EncoderLM m, EncoderConfig c, int b, int t, long seed) {
        Rng r = new Rng(seed);
        int[] ids = new int[b * t], segs = new int[b * t], labels = new int[b * t], lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        lengths[b - 1] = 1;
        boolean[] valid = valid(lengths, t);
        for (int i = 0; i < b * t; i++) {
            ids[i] = r.nextInt(VOCAB);
            segs[i] = r.nextInt(c.typeVocabSize());
            labels[i] = valid[i] && r.nextDouble() < 0.6 ? r.nextInt(VOCAB) : CrossEntropy.IGNORE;
        }
        labels[0] = 4;
        m.zeroGrad();
        float[] out = java.util.Arrays.copyOf(m.forward(ids, segs, valid, b, t, false), b * t * VOCAB + 1);
        out[b * t * VOCAB] = m.loss(labels);
        m.backward();
        return out;
    }

    @Test
    void morePaddingChangesNothingAtTheRealPositions() {
        for (EncoderConfig c : variants()) {
            EncoderLM m = new EncoderLM(c, 3);
            perturb(m, new Rng(2));
            int[] sentence = {3, 7, 1, 9};
            int n = sentence.length, d = c.dModel();
            float[] aloneLogits = m.forward(sentence, null, null, 1, n, false).clone();
            float[] aloneHidden = m.hidden().clone();
            // the same sentence as row 1 of a batch padded to 6, beside a full-length sentence, padding ids arbitrary
            int time = 6;
            int[] ids = {2, 5, 8, 11, 0, 4, 3, 7, 1, 9, 12, 12};
            float[] logits = m.forward(ids, null, valid(new int[] {6, 4}, time), 2, time, false);
            float[] hidden = m.hidden().clone();
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < d; i++) assertEquals(aloneHidden[t * d + i], hidden[(time + t) * d + i], 2e-5, "hidden " + t + "," + i);
                for (int v = 0; v < VOCAB; v++) assertEquals(aloneLogits[t * VOCAB + v], logits[(time + t) * VOCAB + v], 2e-5, "logit " + t + "," + v);
            }
            // padded keys get weight exactly 0
            float[] att = m.attentionWeights(0);
            int heads = c.nHeads();
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < time; t++) {
                    for (int s = n; s < time; s++) assertEquals(0f, att[((heads + h) * time + t) * time + s], "head " + h + " query " + t + " key " + s);
                }
            }
            // and a changed token does change its neighbours' vectors (the attention really is bidirectional)
            ids[6] = 5;
            m.forward(ids, null, valid(new int[] {6, 4}, time), 2, time, false);
            assertNotEquals(hidden[(time + 3) * d], m.hidden()[(time + 3) * d], "the last token sees the first");
        }
    }

    @Test
    void sentenceEmbeddingsPoolTheLastLayer() {
        EncoderConfig c = variants().get(0);
        EncoderLM m = new EncoderLM(c, 5);
        perturb(m, new Rng(4));
        int[] ids = {1, 6, 2, 8};
        int d = c.dModel();
        float[] mean = m.embed(ids, EncoderLM.Pooling.MEAN);
        float[] first = m.embed(ids, EncoderLM.Pooling.FIRST);
        float[] h = m.encode(ids, null, null, 1, ids.length, false);
        for (int i = 0; i < d; i++) {
            float sum = 0;
            for (int t = 0; t < ids.length; t++) sum += h[t * d + i];
            assertEquals(sum / ids.length, mean[i], 1e-6);
            assertEquals(h[i], first[i]);
        }
        assertEquals(1.0, EncoderLM.cosine(mean, mean), 1e-9);
        float[] other = m.embed(new int[] {9, 9, 3}, EncoderLM.Pooling.MEAN);
        double cos = EncoderLM.cosine(mean, other);
        assertTrue(cos < 1 - 1e-6 && cos > -1, "two different sentences: " + cos);
    }

    @Test
    void deterministicFromTheSeed() {
        EncoderConfig c = variants().get(0);
        int[] ids = {1, 2, 3, 4, 5, 6};
        assertArrayEquals(new EncoderLM(c, 9).forward(ids, null, null, 2, 3, false).clone(), new EncoderLM(c, 9).forward(ids, null, null, 2, 3, false));
        assertNotEquals(new EncoderLM(c, 9).forward(ids, null, null, 2, 3, false)[0], new EncoderLM(c, 10).forward(ids, null, null, 2, 3, false)[0]);
    }

    @Test
    void badInputIsAClearError() {
        EncoderLM m = new EncoderLM(variants().get(0), 1);
        assertTrue(assertThrows(LlmjException.class, () -> m.forward(new int[9], null, null, 1, 9, false)).getMessage().contains("longer than the context length 8"));
        assertTrue(assertThrows(LlmjException.class, () -> m.forward(new int[2], new int[] {0, 2}, null, 1, 2, false)).getMessage().contains("segment 2"));
        assertTrue(assertThrows(LlmjException.class, () -> new EncoderConfig(10, 8, 10, 1, 3, 20, Activation.GELU_ERF, 2, 0f, 1e-12f).validate())
                .getMessage().contains("does not divide"));
        assertTrue(assertThrows(LlmjException.class, () -> new EncoderConfig(10, 8, 12, 1, 3, 20, Activation.SWIGLU, 2, 0f, 1e-12f).validate())
                .getMessage().contains("activation"));
    }
}
