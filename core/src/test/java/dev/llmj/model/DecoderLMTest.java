package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.nn.Activation;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every layer's backward, checked through the whole model: the analytic gradient of every
 * parameter tensor (sampled entries) against central finite differences of the double-precision
 * {@link ReferenceModel}, for each family and option; and the float forward against it.
 */
class DecoderLMTest {
    static final int VOCAB = 11, B = 2, T = 5;

    static List<ModelConfig> variants() {
        return List.of(
                ModelConfig.gpt2(VOCAB, 8, 12, 2, 3, 0f),
                ModelConfig.llama(VOCAB, 8, 16, 2, 4, 2, 24),                 // GQA: 2 q heads per k/v head, RoPE
                new ModelConfig("llmj", VOCAB, 8, 12, 2, 2, 2, 20, ModelConfig.Position.SINUSOIDAL, "layernorm",
                        Activation.RELU, true, false, 0f, 1e-5f, 10000f),
                new ModelConfig("llmj", VOCAB, 8, 12, 1, 3, 1, 16, ModelConfig.Position.ROPE, "rmsnorm",
                        Activation.SILU, false, true, 0f, 1e-6f, 500f),     // multi-query attention
                new ModelConfig("llmj", VOCAB, 8, 12, 2, 3, 3, 48, ModelConfig.Position.LEARNED, "layernorm",
                        Activation.GELU_ERF, false, true, 0f, 1e-5f, 10000f));  // nanoGPT: bias=False (norms too), exact GELU
    }

    static int[] randomIds(Rng r, int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    /** Non-zero biases and norm gains, so their gradients are tested away from the trivial point. */
    static void perturb(DecoderLM m, Rng r) {
        for (Param p : m.params()) {
            if (p.shape.length == 1) for (int i = 0; i < p.size(); i++) p.value()[i] += (float) (r.nextGaussian() * 0.1);
            else for (int i = 0; i < p.size(); i++) p.value()[i] *= 10f; // larger weights: a less linear, harder check
        }
    }

    @TestFactory
    Stream<DynamicTest> gradientsMatchFiniteDifferences() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(c.family() + " " + c.position() + " " + c.activation(), () -> {
            DecoderLM m = new DecoderLM(c, 7);
            Rng r = new Rng(11);
            perturb(m, r);
            int[] ids = randomIds(r, B * T, VOCAB), labels = randomIds(r, B * T, VOCAB);
            labels[3] = -100; // an ignored position
            m.zeroGrad();
            float[] logits = m.forward(ids, B, T, false);
            float loss = m.loss(labels);
            m.backward();

            ReferenceModel ref = new ReferenceModel(m);
            double refLoss = ref.loss(ids, labels, B, T);
            assertEquals(refLoss, loss, 1e-4 * Math.max(1, Math.abs(refLoss)), "loss");
            double[][] refLogits = ref.logits(ids, B, T);
            for (int row = 0; row < B * T; row++) {
                for (int v = 0; v < VOCAB; v++) assertEquals(refLogits[row][v], logits[row * VOCAB + v], 2e-4, "logit " + row + "," + v);
            }
            for (Param p : m.params()) {
                double[] w = ref.param(p.name);
                int checks = Math.min(p.size(), 6);
                for (int k = 0; k < checks; k++) {
                    int i = (int) ((long) k * 7919 % p.size());
                    double keep = w[i], h = 1e-5;
                    w[i] = keep + h;
                    double up = ref.loss(ids, labels, B, T);
                    w[i] = keep - h;
                    double down = ref.loss(ids, labels, B, T);
                    w[i] = keep;
                    double numeric = (up - down) / (2 * h);
                    double tol = 2e-3 * Math.max(Math.abs(numeric), 1e-2) + 2e-5;
                    assertEquals(numeric, p.grad()[i], tol, p.name + "[" + i + "]");
                }
            }
        }));
    }

    @Test
    void aLaterTokenNeverChangesAnEarlierPositionsLogits() {
        for (ModelConfig c : variants()) {
            DecoderLM m = new DecoderLM(c, 3);
            int[] ids = randomIds(new Rng(5), 8, VOCAB);
            float[] before = m.forward(ids, 1, 8, false).clone();
            ids[6] = (ids[6] + 1) % VOCAB;
            float[] after = m.forward(ids, 1, 8, false);
            for (int i = 0; i < 6 * VOCAB; i++) assertEquals(before[i], after[i], 0f, c.family() + " position " + i / VOCAB);
            boolean changed = false;
            for (int i = 6 * VOCAB; i < 8 * VOCAB; i++) changed |= before[i] != after[i];
            assertTrue(changed, "the changed token does change its own and later logits");
            // and the attention weights above the diagonal are exactly zero
            float[] att = m.attentionWeights(0);
            for (int t = 0; t < 8; t++) for (int s = t + 1; s < 8; s++) assertEquals(0f, att[t * 8 + s]);
        }
    }

    /**
     * The model's arrays only grow: after a larger batch, a smaller one (fewer rows, or rows of
     * another length) must give the bits a fresh model gives, logits, loss and every gradient, with
     * nothing read from what the larger batch left in the longer arrays.
     */
    @TestFactory
    Stream<DynamicTest> aBatchAfterALargerOneGivesWhatAFreshModelGives() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(c.family() + " " + c.position() + " " + c.activation(), () -> {
            DecoderLM used = perturbed(c);
            run(used, 3, 8, 1);
            for (int[] shape : new int[][] {{2, 5}, {1, 7}, {3, 2}}) {
                int b = shape[0], t = shape[1];
                float[] usedOut = run(used, b, t, 2);
                DecoderLM fresh = perturbed(c);
                assertArrayEquals(run(fresh, b, t, 2), usedOut, b + "x" + t + " logits and loss");
                for (int i = 0; i < fresh.params().size(); i++) {
                    assertArrayEquals(fresh.params().get(i).grad(), used.params().get(i).grad(), b + "x" + t + " " + fresh.params().get(i).name);
                }
            }
        }));
    }

    private static DecoderLM perturbed(ModelConfig c) {
        DecoderLM m = new DecoderLM(c, 7);
        perturb(m, new Rng(11));
        return m;
    }

    /** Zeroed gradients, then forward, loss and backward on random ids of shape b × t: the b·t·V logits, then the loss. */
    private static float[] run(DecoderLM m, int b, int t, long seed) {
        Rng r = new Rng(seed);
        int[] ids = randomIds(r, b * t, VOCAB), labels = randomIds(r, b * t, VOCAB);
        labels[0] = -100;
        m.zeroGrad();
        float[] out = Arrays.copyOf(m.forward(ids, b, t, false), b * t * VOCAB + 1);
        out[b * t * VOCAB] = m.loss(labels);
        m.backward();
        return out;
    }

    /**
     * A prompt longer than {@link DecoderLM#prefillChunk} goes in chunks: the logits after it, the cache it fills and the
     * tokens decoded after it must be the bits one pass gives (two sequences of 50 tokens, chunks of 16 or 17, and a
     * 40-token prompt after 10 cached tokens).
     */
    @Test
    void aPromptInChunksGivesTheBitsOfOnePass() {
        for (ModelConfig c : List.of(ModelConfig.llama(VOCAB, 64, 16, 2, 4, 2, 24), ModelConfig.gpt2(VOCAB, 64, 12, 2, 3, 0f))) {
            List<float[]> onePass = prefillAndDecode(c, 1 << 20), chunked = prefillAndDecode(c, 20);
            for (int i = 0; i < onePass.size(); i++) assertArrayEquals(onePass.get(i), chunked.get(i), c.family() + " result " + i);
        }
    }

    /** Logits after a 50-token prompt in two cache rows, a 40-token prompt after 10 more tokens, 3 decoded tokens, then every layer's cache. */
    private static List<float[]> prefillAndDecode(ModelConfig c, int chunk) {
        DecoderLM m = new DecoderLM(c, 5);
        m.prefillChunk = chunk;
        KvCache cache = m.newCache(2);
        Rng r = new Rng(3);
        List<float[]> out = new java.util.ArrayList<>();
        out.add(m.forwardCached(randomIds(r, 100, VOCAB), 2, 50, new int[] {0, 1}, cache).clone());
        out.add(m.forwardCached(randomIds(r, 1, VOCAB), 1, 1, new int[] {1}, cache).clone());
        for (int i = 0; i < 3; i++) out.add(m.forwardCached(randomIds(r, 2, VOCAB), 2, 1, new int[] {0, 1}, cache).clone());
        KvCache second = m.newCache(1);
        m.forwardCached(randomIds(r, 10, VOCAB), 1, 10, new int[] {0}, second);
        out.add(m.forwardCached(randomIds(r, 40, VOCAB), 1, 40, new int[] {0}, second).clone());
        for (int l = 0; l < c.nLayers(); l++) {
            out.add(cache.keys[l]);
            out.add(cache.values[l]);
            out.add(second.keys[l]);
            out.add(second.values[l]);
        }
        return out;
    }

    /**
     * Inference packs each weight matrix in place ({@link Param#packed}) and whatever reads or writes {@link Param#value()}
     * gets it row-major again: the values survive the round trip bit for bit, a tied embedding's rows are read from the
     * packed table, the training forward after it sees the same weights, and a weight written by hand between two
     * inferences takes effect at the next.
     */
    @Test
    void inferencePacksTheWeightsInPlaceAndValueUnpacksThem() {
        for (ModelConfig c : List.of(ModelConfig.gpt2(VOCAB, 16, 72, 2, 3, 0f), ModelConfig.llama(VOCAB, 16, 64, 2, 4, 2, 80))) {
            DecoderLM m = new DecoderLM(c, 5);
            List<float[]> before = m.params().stream().map(p -> p.value().clone()).toList();
            int[] ids = randomIds(new Rng(8), 6, VOCAB);
            float[] cached = m.forwardCached(ids, 1, 6, new int[] {0}, m.newCache(1)).clone();
            assertTrue(m.head.weight.isPacked() && m.blocks.get(0).mlp.fc.weight.isPacked(), c.family());
            assertEquals(c.tiedHead(), m.tokens.weight.isPacked(), c.family() + ": only a tied head packs the embedding");
            assertArrayEquals(cached, m.forwardCached(ids, 1, 6, new int[] {0}, m.newCache(1)), c.family() + ": rows read from the packed table");
            float[] full = m.forward(ids, 1, 6, false);
            assertArrayEquals(cached, Arrays.copyOfRange(full, 5 * VOCAB, 6 * VOCAB), 1e-5f, c.family() + ": the training forward's last logits");
            for (int i = 0; i < before.size(); i++) {
                Param p = m.params().get(i);
                assertTrue(!p.isPacked() && Arrays.equals(before.get(i), p.value()), p.name + " unpacked as it was");
            }
            m.forwardCached(ids, 1, 6, new int[] {0}, m.newCache(1)); // packed again
            m.head.weight.value()[3 * c.dModel() + 1] += 5f; // token 3's logit moves with the last position's feature 1
            float[] edited = m.forwardCached(ids, 1, 6, new int[] {0}, m.newCache(1));
            assertTrue(edited[3] != cached[3], c.family() + ": the write took effect");
            assertArrayEquals(Arrays.copyOfRange(m.forward(ids, 1, 6, false), 5 * VOCAB, 6 * VOCAB), edited, 1e-5f, c.family() + " after the write");
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        // wide enough (64 rows × 1,024 hidden) that the matmuls really split into several chunks; GPT-2 with
        // d = 264 so that the GELU's and the norms' ranges split at places that are not whole vectors
        for (ModelConfig c : List.of(ModelConfig.llama(VOCAB, 32, 32, 2, 4, 2, 1024), ModelConfig.gpt2(VOCAB, 32, 264, 2, 4, 0f))) {
            sameOnAnyThreadCount(c);
        }
    }

    private static void sameOnAnyThreadCount(ModelConfig c) {
        int[] ids = randomIds(new Rng(1), 64, VOCAB), labels = randomIds(new Rng(2), 64, VOCAB);
        List<float[]> first = null;
        int before = dev.llmj.tensor.Parallel.threads();
        try {
            for (int threads : new int[] {1, 3}) {
                dev.llmj.tensor.Parallel.setThreads(threads);
                DecoderLM m = new DecoderLM(c, 9);
                m.forward(ids, 2, 32, false);
                m.loss(labels);
                m.backward();
                List<float[]> grads = m.params().stream().map(p -> p.grad().clone()).toList();
                if (first == null) first = grads;
                else for (int i = 0; i < grads.size(); i++) assertTrue(java.util.Arrays.equals(first.get(i), grads.get(i)), m.params().get(i).name);
            }
        } finally {
            dev.llmj.tensor.Parallel.setThreads(before);
        }
    }

    @Test
    void impossibleConfigsAreClearErrors() {
        assertTrue(assertThrows(LlmjException.class, () -> ModelConfig.gpt2(10, 8, 10, 1, 3, 0f).validate()).getMessage().contains("does not divide"));
        assertTrue(assertThrows(LlmjException.class, () -> ModelConfig.llama(10, 8, 12, 1, 6, 4, 20).validate()).getMessage().contains("--kv-heads"));
        assertTrue(assertThrows(LlmjException.class, () -> ModelConfig.gpt2(10, 8, 12, 1, 3, -0.1f).validate()).getMessage().contains("--dropout"));
    }
}
