package dev.llmj.generate;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.KvCache;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Activation;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The KV-cache generator against recomputing the whole sequence, and its stop rules. */
class GeneratorTest {
    static final Tokenizer CHARS = CharTokenizer.build("abcdefgh ij\n", List.of(SpecialTokens.Role.EOS));
    static final int V = CHARS.vocabSize();

    static List<ModelConfig> families() {
        return List.of(
                ModelConfig.gpt2(V, 12, 16, 2, 4, 0f),                                      // learned positions
                ModelConfig.llama(V, 12, 16, 2, 4, 2, 24),                                  // RoPE, 2 q heads per k/v head
                new ModelConfig("llmj", V, 12, 16, 2, 2, 1, 32, ModelConfig.Position.SINUSOIDAL, "layernorm",
                        Activation.GELU_ERF, true, false, 0f, 1e-5f, 10000f));              // sinusoidal, multi-query
    }

    /** A model with weights large enough that its logits differ clearly between positions. */
    static DecoderLM model(ModelConfig c) {
        DecoderLM m = new DecoderLM(c, 5);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 20f;
        return m;
    }

    static float[] lastRow(float[] logits, int t, int v) {
        return Arrays.copyOfRange(logits, (t - 1) * v, t * v);
    }

    @TestFactory
    Stream<DynamicTest> cachedLogitsEqualRecomputedLogits() {
        return families().stream().map(c -> DynamicTest.dynamicTest(c.family() + " " + c.position(), () -> {
            DecoderLM m = model(c);
            int[] seq = {1, 5, 2, 7, 7, 3, 0, 9, 4, 6, 2, 8};
            KvCache cache = m.newCache(1);
            float[] got = m.forwardCached(Arrays.copyOf(seq, 4), 1, 4, new int[] {0}, cache).clone();   // prefill 4
            assertArrayEquals(lastRow(m.forward(Arrays.copyOf(seq, 4), 1, 4, false), 4, V), got, 2e-4f, "prefill");
            for (int t = 4; t < seq.length; t++) {                                                    // then one at a time
                got = m.forwardCached(new int[] {seq[t]}, 1, 1, new int[] {0}, cache).clone();
                float[] want = lastRow(m.forward(Arrays.copyOf(seq, t + 1), 1, t + 1, false), t + 1, V);
                assertArrayEquals(want, got, 2e-4f, "decode at position " + t);
                assertTrue(Math.abs(want[0] - want[1]) > 1e-3f, "the logits are not trivial");
            }
            assertEquals(seq.length, cache.length(0));
            assertThrows(IllegalArgumentException.class, () -> m.forwardCached(new int[] {1}, 1, 1, new int[] {0}, cache), "past the context");
        }));
    }

    @TestFactory
    Stream<DynamicTest> aLongPromptChunkAttendsLikeTheFullForwardAfterACacheAndBesideAnotherSequence() {
        // more than Attention.FEW_QUERIES new tokens take the blocked attention (products over the cached keys);
        // sequence 0 already holds 2 tokens when both sequences read 9 more, so their starts differ
        return families().stream().map(c -> DynamicTest.dynamicTest(c.family() + " " + c.position(), () -> {
            DecoderLM m = model(c);
            int[] a = {1, 5, 2, 7, 7, 3, 0, 9, 4, 6, 2}, b = {4, 4, 0, 1, 9, 2, 6, 5, 3};
            KvCache cache = m.newCache(2);
            m.forwardCached(Arrays.copyOf(a, 2), 1, 2, new int[] {0}, cache);
            int[] chunk = new int[18];
            System.arraycopy(a, 2, chunk, 0, 9);
            System.arraycopy(b, 0, chunk, 9, 9);
            float[] got = m.forwardCached(chunk, 2, 9, new int[] {0, 1}, cache).clone();
            assertArrayEquals(lastRow(m.forward(a, 1, a.length, false), a.length, V), Arrays.copyOfRange(got, 0, V), 2e-4f, "after 2 cached");
            assertArrayEquals(lastRow(m.forward(b, 1, b.length, false), b.length, V), Arrays.copyOfRange(got, V, 2 * V), 2e-4f, "from empty");
            float[] next = m.forwardCached(new int[] {6, 6}, 2, 1, new int[] {0, 1}, cache);   // and decoding goes on from there
            int[] a1 = Arrays.copyOf(a, a.length + 1);
            a1[a.length] = 6;
            assertArrayEquals(lastRow(m.forward(a1, 1, a1.length, false), a1.length, V), Arrays.copyOfRange(next, 0, V), 2e-4f, "decode after");
        }));
    }

    @Test
    void theCachedPathReadsTheWeightsAsTheyAreAfterATrainingStepOrAHandEdit() {
        DecoderLM m = model(families().get(0));
        int[] ids = {1, 5, 2, 7, 7, 3, 0, 9, 4, 6};                 // 10 rows: the prefill goes through the packed strips' tiles
        m.forwardCached(ids, 1, ids.length, new int[] {0}, m.newCache(1));
        m.zeroGrad();
        m.forward(ids, 1, ids.length, true);
        m.loss(new int[] {5, 2, 7, 7, 3, 0, 9, 4, 6, 1});
        m.backward();
        new dev.llmj.train.AdamW(m.params(), 0.9f, 0.99f, 1e-8f, 0f).step(0.05f); // every weight moves
        float[] cached = m.forwardCached(ids, 1, ids.length, new int[] {0}, m.newCache(1)).clone();
        assertArrayEquals(lastRow(m.forward(ids, 1, ids.length, false), ids.length, V), cached, 2e-4f);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 0.5f;
        cached = m.forwardCached(ids, 1, ids.length, new int[] {0}, m.newCache(1)).clone();
        assertArrayEquals(lastRow(m.forward(ids, 1, ids.length, false), ids.length, V), cached, 2e-4f);
    }

    @Test
    void aCachesSizeIsKnownBeforeItIsMade() {
        for (ModelConfig c : families()) assertEquals(new KvCache(c, 3).bytes(), KvCache.bytes(c, 3), c.family());
    }

    @Test
    void theCachedPathLeavesATrainingForwardAndItsBackwardAlone() {
        for (ModelConfig c : families()) {
            int[] ids = {1, 5, 2, 7, 7, 3, 0, 9, 4, 6}, labels = {5, 2, 7, 7, 3, 0, 9, 4, 6, 1};
            DecoderLM a = model(c), b = model(c);
            a.zeroGrad();
            a.forward(ids, 1, ids.length, true);
            a.loss(labels);
            a.backward();
            b.zeroGrad();
            b.forward(ids, 1, ids.length, true);
            float lossB = b.loss(labels);
            KvCache cache = b.newCache(1);                          // prefill (many rows) and a decoding step in between
            b.forwardCached(new int[] {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}, 1, 11, new int[] {0}, cache);
            b.forwardCached(new int[] {8}, 1, 1, new int[] {0}, cache);
            b.backward();
            for (int i = 0; i < a.params().size(); i++) {
                assertArrayEquals(a.params().get(i).grad(), b.params().get(i).grad(), c.family() + " " + a.params().get(i).name);
            }
            assertTrue(Float.isFinite(lossB));
        }
    }

    @Test
    void sequencesInOneBatchDoNotSeeEachOther() {
        DecoderLM m = model(families().get(1));
        KvCache cache = m.newCache(3);
        int[][] prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}};
        for (int s = 0; s < 3; s++) m.forwardCached(prompts[s], 1, prompts[s].length, new int[] {s}, cache);
        float[] batch = m.forwardCached(new int[] {2, 2, 2}, 3, 1, new int[] {0, 1, 2}, cache).clone();
        for (int s = 0; s < 3; s++) {
            int[] whole = Arrays.copyOf(prompts[s], prompts[s].length + 1);
            whole[prompts[s].length] = 2;
            assertArrayEquals(lastRow(m.forward(whole, 1, whole.length, false), whole.length, V), Arrays.copyOfRange(batch, s * V, (s + 1) * V),
                    2e-4f, "sequence " + s);
        }
    }

    /** Greedy decoding by recomputing everything: the slow, obvious reference. */
    static List<Integer> greedyReference(DecoderLM m, int[] prompt, int steps, int keep) {
        List<Integer> view = new ArrayList<>();
        for (int id : prompt) view.add(id);
        List<Integer> out = new ArrayList<>();
        int ctx = m.config.contextLength();
        for (int k = 0; k < steps; k++) {
            int[] ids = view.stream().mapToInt(Integer::intValue).toArray();
            float[] row = lastRow(m.forward(ids, 1, ids.length, false), ids.length, V);
            int best = 0;
            for (int i = 1; i < V; i++) if (row[i] > row[best]) best = i;
            out.add(best);
            if (view.size() == ctx) view = new ArrayList<>(view.subList(ctx - keep + 1, ctx)); // the sliding window
            view.add(best);
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> greedyEqualsRecomputingAndTheWindowSlides() {
        return families().stream().map(c -> DynamicTest.dynamicTest(c.family(), () -> {
            DecoderLM m = model(c);
            Generator g = new Generator(m, CHARS);
            int[] prompt = {1, 2, 3};
            GenerationConfig greedy = new GenerationConfig(9, 0f, 0, 1f, 0f, 1f, 0, List.of(), false);
            int eos = CHARS.specials().id(SpecialTokens.Role.EOS);
            Generator.Result r = g.generateIds(List.of(prompt), greedy, null).get(0);
            List<Integer> want = greedyReference(m, prompt, 9, 9);
            int cut = want.indexOf(eos);
            assertEquals(cut < 0 ? want : want.subList(0, cut), Arrays.stream(r.tokens()).boxed().toList());
            // 30 tokens through a context of 12: the window slides (keeps 9) and stays equal to recomputing
            GenerationConfig sliding = new GenerationConfig(30, 0f, 0, 1f, 0f, 1f, 0, List.of(), true);
            Generator.Result s = g.generateIds(List.of(prompt), sliding, null).get(0);
            want = greedyReference(m, prompt, 30, 9);
            cut = want.indexOf(eos);
            assertEquals(cut < 0 ? want : want.subList(0, cut), Arrays.stream(s.tokens()).boxed().toList());
            LlmjException e = assertThrows(LlmjException.class, () -> g.generateIds(List.of(prompt), greedy.withMaxTokens(11), null));
            assertTrue(e.getMessage().contains("context length 12") && e.getMessage().contains("--sliding-window"), e.getMessage());
        }));
    }

    @Test
    void aBatchGivesWhatEachPromptGivesAlone() {
        DecoderLM m = model(families().get(0));
        Generator g = new Generator(m, CHARS);
        GenerationConfig cfg = new GenerationConfig(6, 0.9f, 6, 0.95f, 0.01f, 1.1f, 42, List.of(), false);
        List<String> prompts = List.of("abc", "h", "ij ga");
        List<StringBuilder> streamed = List.of(new StringBuilder(), new StringBuilder(), new StringBuilder());
        List<Generator.Result> batch = g.generate(prompts, cfg, (seq, text) -> streamed.get(seq).append(text));
        for (int s = 0; s < prompts.size(); s++) {
            Generator.Result alone = g.generate(prompts.get(s), cfg.withSeed(42 + s), null);
            assertArrayEquals(alone.tokens(), batch.get(s).tokens(), "prompt " + s);
            assertEquals(batch.get(s).text(), streamed.get(s).toString(), "the stream adds up to the text");
        }
        java.util.Set<String> texts = new java.util.HashSet<>();
        GenerationConfig hot = new GenerationConfig(6, 3f, 0, 1f, 0f, 1f, 0, List.of(), false);
        for (long seed = 0; seed < 8; seed++) texts.add(g.generate("abc", hot.withSeed(seed), null).text());
        assertTrue(texts.size() > 1, "other seeds, other texts: " + texts);
    }

    @Test
    void elevenSequencesInOnePassGiveWhatEachGivesAlone() {
        DecoderLM m = model(families().get(1));
        Generator g = new Generator(m, CHARS);
        GenerationConfig cfg = new GenerationConfig(5, 1f, 0, 1f, 0f, 1f, 11, List.of(), false);
        List<String> prompts = new ArrayList<>();
        for (int s = 0; s < 11; s++) prompts.add("abcdefgh".substring(0, 1 + s % 7));   // 11 rows through the products at each step: their tiles, where one sequence goes alone
        List<Generator.Result> batch = g.generate(prompts, cfg, null);
        for (int s = 0; s < prompts.size(); s++) {
            assertArrayEquals(g.generate(prompts.get(s), cfg.withSeed(11 + s), null).tokens(), batch.get(s).tokens(), "prompt " + s);
        }
    }

    @Test
    void idsWithoutATokenAreNeverDrawn() {
        // a tiktoken-style vocabulary with a hole: the last id has no bytes; a model that prefers it must not say it
        var full = BpeTrainer.train("abcabc abab", 256 + 2, List.of(), "gpt2");
        int hole = full.vocabSize();
        byte[][] bytes = new byte[hole + 1][];
        for (int i = 0; i < hole; i++) bytes[i] = full.tokenBytes(i);
        var holed = new dev.llmj.tokenizer.ByteBpeTokenizer(bytes, full.merges(), ranks(full), full.options(), full.specials());
        assertFalse(holed.hasToken(hole));
        assertEquals(hole + 1, holed.vocabSize());
        DecoderLM m = new DecoderLM(ModelConfig.gpt2(holed.vocabSize(), 12, 16, 1, 2, 0f), 3);
        LayerNorm n = (LayerNorm) m.finalNorm;
        Arrays.fill(n.weight.value(), 0f);
        Arrays.fill(n.bias.value(), 0f);
        n.bias.value()[0] = 1f;
        Arrays.fill(m.tokens.weight.value(), 0f);  // tied head: the hole's embedding row decides its logit
        m.tokens.weight.value()[hole * 16] = 10f;
        Generator.Result r = new Generator(m, holed).generate("ab", GenerationConfig.greedy(4), null);
        assertEquals(4, r.tokens().length);
        for (int id : r.tokens()) assertNotEquals(hole, id);
    }

    static int[] ranks(dev.llmj.tokenizer.ByteBpeTokenizer t) {
        int[] r = new int[t.merges().length];
        for (int i = 0; i < r.length; i++) r[i] = i;
        return r;
    }

    /**
     * A model that always says the same token: the final norm's gain is 0 and its bias e₀, so every
     * position's final vector is e₀; the untied head row of {@code favourite} is 10·e₀, of
     * {@code second} 9·e₀, the others 0.
     */
    static DecoderLM parrot(int favourite, int second) {
        DecoderLM m = new DecoderLM(families().get(2), 1);
        LayerNorm n = (LayerNorm) m.finalNorm;
        Arrays.fill(n.weight.value(), 0f);
        Arrays.fill(n.bias.value(), 0f);
        n.bias.value()[0] = 1f;
        Arrays.fill(m.head.weight.value(), 0f);
        m.head.weight.value()[second * m.config.dModel()] = 9f;
        m.head.weight.value()[favourite * m.config.dModel()] = 10f;
        return m;
    }

    @Test
    void stopsAtEosAtAStopStringOrAtTheBudget() {
        int eos = CHARS.specials().id(SpecialTokens.Role.EOS), a = CHARS.encode("a")[0], c = CHARS.encode("c")[0];
        Generator.Result r = new Generator(parrot(eos, a), CHARS).generate("abc", GenerationConfig.greedy(5), null);
        assertEquals(Generator.Stop.EOS, r.stop());
        assertEquals("", r.text());
        assertEquals(0, r.tokens().length);

        Generator g = new Generator(parrot(a, c), CHARS);
        r = g.generate("b", GenerationConfig.greedy(5), null);
        assertEquals(Generator.Stop.LENGTH, r.stop());
        assertEquals("aaaaa", r.text());

        StringBuilder streamed = new StringBuilder();
        GenerationConfig stop = new GenerationConfig(9, 0f, 0, 1f, 0f, 1f, 0, List.of("aaaa", "ab"), false);
        r = g.generate("b", stop, streamed::append);
        assertEquals(Generator.Stop.STOP_STRING, r.stop());
        assertEquals("", r.text(), "text before the stop string only");
        assertEquals("", streamed.toString(), "a possible stop string is never streamed");
        assertEquals(4, r.tokens().length);

        // the repetition penalty: a (10 → 6.7 once said) yields to c (9), then c (→ 6) to a
        r = g.generate("b", new GenerationConfig(3, 0f, 0, 1f, 0f, 1.5f, 0, List.of(), false), null);
        assertEquals("aca", r.text());
    }

    @Test
    void bytesOfOneCharacterStreamAsOneCharacter() {
        var bpe = BpeTrainer.train("猫 在 垫子 上. 狗 在 床 上.", 256 + 3, List.of(SpecialTokens.Role.EOS), "gpt2");
        List<String> pieces = new ArrayList<>();
        TextStream ts = new TextStream(bpe, bpe.encode("x"), List.of(), pieces::add);
        int[] ids = bpe.encode("猫垫 上");
        assertTrue(ids.length > 4, "several byte tokens per character: " + ids.length);
        for (int id : ids) ts.add(id);
        ts.finish();
        assertEquals("猫垫 上", String.join("", pieces));
        for (String p : pieces) assertFalse(p.contains("\uFFFD"), "a broken character was streamed: " + pieces);
        assertEquals("猫垫 上", ts.text());
        assertEquals(2, TextStream.incompleteTail(new byte[] {'a', (byte) 0xE7, (byte) 0x8C}));
        assertEquals(0, TextStream.incompleteTail("a猫".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void badSettingsAreOneClearError() {
        Generator g = new Generator(model(families().get(0)), CHARS);
        GenerationConfig d = GenerationConfig.defaults().withMaxTokens(4);
        for (GenerationConfig bad : List.of(
                new GenerationConfig(4, -1f, 0, 1f, 0f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, -2, 1f, 0f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, 0, 0f, 0f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, 0, 1.5f, 0f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, 0, 1f, 1f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, 0, 1f, 0f, 0f, 0, List.of(), false),
                new GenerationConfig(0, 1f, 0, 1f, 0f, 1f, 0, List.of(), false),
                new GenerationConfig(4, 1f, 0, 1f, 0f, 1f, 0, List.of(""), false))) {
            assertThrows(LlmjException.class, () -> g.generate("abc", bad, null), bad.toString());
        }
        LlmjException e = assertThrows(LlmjException.class, () -> g.generate("", d, null));
        assertTrue(e.getMessage().contains("tokenizes to nothing"), e.getMessage());
    }

    @Test
    void theReadmeJavaExample() {
        DecoderLM model = model(families().get(0));
        Generator gen = new Generator(model, CHARS);
        GenerationConfig cfg = new GenerationConfig(6, 0.8f, 40, 0.95f, 0f, 1.1f, 7, List.of("\n\n"), false);
        StringBuilder streamed = new StringBuilder();
        Generator.Result r = gen.generate("abc", cfg, streamed::append);
        assertEquals(r.text(), streamed.toString());
        assertTrue(r.stop() != null && r.tokens().length <= 6);
        assertTrue(r.timing().prefillTokensPerSec() > 0 && r.timing().decodeTokensPerSec() > 0);
        assertEquals(2, gen.generate(List.of("ab", "c"), cfg, (seq, text) -> {}).size());

        int[] ids = CHARS.encode("abc");
        KvCache cache = model.newCache(1);
        float[] last = model.forwardCached(ids, 1, ids.length, new int[] {0}, cache);
        assertTrue(last.length >= V); // the model's own array, grown to the batch of 2 above: its first V values
        last = model.forwardCached(new int[] {2}, 1, 1, new int[] {0}, cache);
        assertEquals(4, cache.length(0));
    }
}
