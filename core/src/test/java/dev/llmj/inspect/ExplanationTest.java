package dev.llmj.inspect;

import dev.llmj.LlmjException;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Activation;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The explanation's numbers are the model's: causal attention rows, losses equal to the
 * cross-entropy eval computes, and a trace whose recomputation equals the real forward, for
 * every family and option (learned, sinusoidal and rotary positions, GQA and MQA, SwiGLU).
 */
class ExplanationTest {
    static final String TEXT = "To be, or not to be: that is the question.";
    static final Tokenizer TOK = CharTokenizer.build(TEXT + "\n<>&\"'", List.of());

    static List<ModelConfig> variants() {
        int v = TOK.vocabSize();
        return List.of(
                ModelConfig.gpt2(v, 48, 16, 2, 2, 0f),
                ModelConfig.llama(v, 48, 16, 2, 4, 2, 24),                          // GQA: 2 q heads per k/v head, RoPE, SwiGLU
                new ModelConfig("llmj", v, 48, 12, 2, 3, 1, 20, ModelConfig.Position.SINUSOIDAL, "rmsnorm",
                        Activation.RELU, true, false, 0f, 1e-5f, 10000f));       // multi-query, sinusoidal, untied head
    }

    /** A random model with large enough weights that attention is far from uniform. */
    static DecoderLM model(ModelConfig c) {
        DecoderLM m = new DecoderLM(c, 5);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 12f;
        return m;
    }

    static String name(ModelConfig c) {
        return c.family() + " " + c.position() + " " + c.nHeads() + "/" + c.nKvHeads() + " heads";
    }

    @TestFactory
    Stream<DynamicTest> attentionIsCausalAndEachRowSumsToOne() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(name(c), () -> {
            Explanation e = Explanation.of(model(c), TOK, TEXT, 5);
            int time = TEXT.length();
            assertEquals(c.nLayers() * c.nHeads(), e.attention().size());
            for (Explanation.AttentionMap m : e.attention()) {
                for (int t = 0; t < time; t++) {
                    double sum = 0;
                    for (int s = 0; s < time; s++) {
                        float w = m.weights()[t][s];
                        if (s > t) assertEquals(0f, w, "the future is exactly 0: layer " + m.layer() + " head " + m.head() + " [" + t + ", " + s + "]");
                        else assertTrue(w >= 0f && w <= 1f);
                        sum += w;
                    }
                    assertEquals(1.0, sum, 1e-5, "row " + t);
                }
            }
            boolean peaked = e.attention().stream().anyMatch(m -> Arrays.stream(m.weights()).skip(2).anyMatch(r -> max(r) > 0.4f));
            assertTrue(peaked, "the test model's attention is far from uniform somewhere (uniform rows past t = 1 stay ≤ 1/3)");
        }));
    }

    @TestFactory
    Stream<DynamicTest> lossesAreTheCrossEntropyEvalComputes() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(name(c), () -> {
            DecoderLM m = model(c);
            Explanation e = Explanation.of(m, TOK, TEXT, 3);
            // what llmj eval does: forward the T−1 inputs, cross-entropy against the next tokens
            int[] ids = TOK.encode(TEXT);
            int n = ids.length - 1;
            float[] logits = m.forward(Arrays.copyOf(ids, n), 1, n, false);
            float eval = CrossEntropy.forwardBackward(logits, Arrays.copyOfRange(ids, 1, n + 1), n, c.vocabSize(), null, new float[n]);
            assertEquals(n, e.predictionCount());
            assertEquals(eval, e.meanLoss(), 1e-5);
            for (Explanation.Prediction p : e.predictions()) {
                List<Explanation.Candidate> top = p.top();
                assertEquals(3, top.size());
                for (int i = 1; i < top.size(); i++) assertTrue(top.get(i - 1).p() >= top.get(i).p(), "top-k in order");
                if (!p.hasLabel()) {
                    assertEquals(ids.length - 1, p.t());
                    assertTrue(Float.isNaN(p.loss()) && Float.isNaN(p.pLabel()));
                    continue;
                }
                assertEquals(ids[p.t() + 1], p.label());
                assertEquals(p.pLabel(), Math.exp(-p.loss()), 1e-5 * Math.max(1, p.pLabel()), "p(label) = exp(−loss)");
                assertTrue(p.pLabel() <= top.getFirst().p() + 1e-7);
                if (top.stream().noneMatch(x -> x.id() == p.label())) assertTrue(p.pLabel() <= top.getLast().p() + 1e-7, "the label is below the top k");
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> theTraceEqualsTheForward() {
        return variants().stream().map(c -> DynamicTest.dynamicTest(name(c), () -> {
            DecoderLM m = model(c);
            int[] ids = TOK.encode(TEXT);
            Explanation e = Explanation.of(m, TOK, TEXT, 5);
            float[] logits = m.forward(ids, 1, ids.length, false).clone();
            for (int layer = 0; layer < c.nLayers(); layer++) {
                for (int pos : new int[] {0, 7, ids.length - 1}) {
                    Trace tr = Trace.of(m, TOK, ids, layer, pos);
                    assertTrue(tr.maxWeightDiff < 1e-5f && tr.maxLogitDiff < 1e-5f, tr.maxWeightDiff + " " + tr.maxLogitDiff);
                    for (int h = 0; h < c.nHeads(); h++) {
                        float[] real = e.attention(layer, h).weights()[pos];
                        for (int s = 0; s < ids.length; s++) assertEquals(real[s], tr.weights[h][s], 1e-5f, "layer " + layer + " head " + h + " key " + s);
                        for (int s = pos + 1; s < ids.length; s++) {
                            assertEquals(Float.NEGATIVE_INFINITY, tr.scores[h][s]);
                            assertEquals(0f, tr.weights[h][s]);
                        }
                    }
                    for (int j = 0; j < c.vocabSize(); j++) assertEquals(logits[pos * c.vocabSize() + j], tr.logits[j], 1e-5f, "logit " + j);
                    assertEquals(e.predictions().get(pos).top().getFirst().id(), tr.top.getFirst().id());
                }
            }
            Trace first = Trace.of(m, TOK, ids, 0, 3);
            float[] pos = m.positionVector(3);
            for (int i = 0; i < c.dModel(); i++) {
                float want = m.tokens.weight.value()[ids[3] * c.dModel() + i] + (pos == null ? 0f : pos[i]);
                assertEquals(want, first.input[i], 0f, "layer 0's input is token + position");
            }
            assertEquals(c.position() == ModelConfig.Position.ROPE, first.positionEmbedding == null);
        }));
    }

    @Test
    void theTextReportShowsEveryPartAndTheMask() {
        DecoderLM m = model(variants().getFirst());
        Explanation e = Explanation.of(m, TOK, "To be", 2);
        String out = TextReport.explanation(e);
        assertTrue(out.contains("tokens: T│o│·│b│e"), out);
        assertTrue(out.contains("layer 1, head 1"), out);
        assertTrue(out.contains("mean loss"), out);
        // row 0 of every map: the query sees only itself, so 1.000 and four exact zeros
        assertTrue(out.lines().filter(l -> l.matches("\\s+0 T\\s+1\\.000\\s+0\\s+0\\s+0\\s+0")).count() == 4, out);
        String trace = TextReport.trace(Trace.of(m, TOK, TOK.encode("To be"), 1, 2), -1, 4);
        for (String stage : List.of("input ", "norm1", "q, k, v", "scores", "mask", "softmax", "output", "projection", "residual", "norm2 + MLP", "logits", "check")) {
            assertTrue(trace.contains("\n" + stage), stage + " in\n" + trace);
        }
        assertTrue(trace.contains("[1×5×16]") && trace.contains("[1×2×5×5]") && trace.contains("(4 of 16)"), trace);
        assertTrue(trace.contains("−∞"), "masked scores are shown");
    }

    @Test
    void onlyTheLayerAndHeadAskedFor() {
        DecoderLM m = model(variants().get(1));
        Explanation e = Explanation.of(m, TOK, TEXT, 5, 1, 2);
        assertEquals(1, e.attention().size());
        assertEquals(1, e.attention().getFirst().layer());
        assertEquals(2, e.attention().getFirst().head());
        assertNull(e.attention(0, 0));
        assertEquals(4, Explanation.of(m, TOK, TEXT, 5, 0, -1).attention().size());
    }

    @Test
    void theHtmlPageIsSelfContainedWithOneHeatmapPerHead() {
        ModelConfig c = variants().get(1);
        Explanation e = Explanation.of(model(c), TOK, "to <be> & \"not\"", 4);
        String html = HtmlReport.render(e);
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.strip().endsWith("</html>"));
        assertEquals(c.nLayers() * c.nHeads(), count(html, "<canvas data-map="));
        assertEquals(c.nLayers(), count(html, "<section class=\"layer\">"));
        for (String tag : List.of("section", "figure", "table", "tr", "script", "style", "p", "div")) {
            assertEquals(count(html, "<" + tag + ">") + count(html, "<" + tag + " "), count(html, "</" + tag + ">"), "balanced <" + tag + ">");
        }
        assertFalse(html.matches("(?s).*(https?:|//[a-z]|src=|href=|@import|url\\().*"), "nothing is loaded from elsewhere");
        assertTrue(html.contains("&lt;") && html.contains("&amp;") && html.contains("&quot;"), "token text is escaped");
        // the data behind the tooltips: one map per head, row t holding t+1 weights, equal to the explanation's
        Matcher rows = Pattern.compile("\\{\"layer\":(\\d+),\"head\":(\\d+),\"w\":\\[(.*?)\\]\\}").matcher(html);
        int maps = 0;
        while (rows.find()) {
            Explanation.AttentionMap m = e.attention(Integer.parseInt(rows.group(1)), Integer.parseInt(rows.group(2)));
            String[] r = rows.group(3).substring(1, rows.group(3).length() - 1).split("\\],\\[");
            assertEquals(e.ids().length, r.length);
            for (int t = 0; t < r.length; t++) {
                String[] w = r[t].split(",");
                assertEquals(t + 1, w.length);
                for (int s = 0; s <= t; s++) assertEquals(m.weights()[t][s], Float.parseFloat(w[s]));
            }
            maps++;
        }
        assertEquals(c.nLayers() * c.nHeads(), maps);
    }

    @Test
    void aTokenCannotCloseTheScript() {
        Tokenizer words = WordTokenizer.build("a </script> b", List.of(), 100);
        DecoderLM m = new DecoderLM(ModelConfig.gpt2(words.vocabSize(), 8, 8, 1, 2, 0f), 1);
        String html = HtmlReport.render(Explanation.of(m, words, "a </script> b", 2));
        assertEquals(1, count(html, "</script>"), "only the real end tag");
        assertTrue(html.contains("&lt;/script&gt;"));
    }

    @Test
    void tokensAreShownVisibly() {
        assertEquals("·the↵⇥\\x00", TokenText.visible(" the\n\t\u0000"));
        Tokenizer bpe = BpeTrainer.train("猫猫 and 猫 and", 300, List.of(SpecialTokens.Role.EOS), null);
        StringBuilder and = new StringBuilder(), dog = new StringBuilder();
        for (int id : bpe.encode(" and")) and.append(TokenText.visible(bpe, id));
        for (int id : bpe.encode("狗")) dog.append(TokenText.visible(bpe, id)); // unseen: one token per byte
        assertEquals("·and", and.toString());
        assertEquals("<0xE7><0x8B><0x97>", dog.toString(), "bytes of a character, not replacement characters");
    }

    @Test
    void badTextIsOneClearError() {
        DecoderLM m = model(variants().getFirst());
        assertTrue(assertThrows(LlmjException.class, () -> Explanation.of(m, TOK, "", 5)).getMessage().contains("tokenizes to nothing"));
        String tooLong = "to be ".repeat(10);
        assertTrue(assertThrows(LlmjException.class, () -> Explanation.of(m, TOK, tooLong, 5)).getMessage().contains("context length"));
        assertTrue(assertThrows(LlmjException.class, () -> Trace.of(m, TOK, "To be", 0, 9)).getMessage().contains("no position 9"));
    }

    @Test
    void oneTokenHasNothingToScore() {
        Explanation e = Explanation.of(model(variants().getFirst()), TOK, "T", 5);
        assertEquals(0, e.predictionCount());
        assertTrue(Double.isNaN(e.meanLoss()));
        assertTrue(TextReport.explanation(e).contains("nothing to score"));
        assertEquals(1f, e.attention(0, 0).weights()[0][0]);
    }

    @Test
    void theReadmeJavaExample(@TempDir Path dir) throws Exception {
        ModelFolder.save(model(variants().getFirst()), TOK, dir.resolve("tiny"));
        // as the README writes it, with out/ replaced by the test's folder
        ModelFolder.Loaded m = ModelFolder.load(dir.resolve("tiny"));
        Explanation e = Explanation.of(m.model(), m.tokenizer(), "To be, or not", 5);
        Explanation.Prediction p = e.predictions().get(3);
        float[][] w = e.attention(0, 1).weights();
        double loss = e.meanLoss();
        String tables = TextReport.explanation(e);
        HtmlReport.write(e, dir.resolve("explain.html"));
        Trace tr = Trace.of(m.model(), m.tokenizer(), "To be, or not", 0, 3);
        float[] row = tr.weights[1];
        String trace = TextReport.trace(tr, -1, 8);

        assertEquals(TOK.encode("e")[0], p.label());
        assertEquals(0f, w[3][4]);
        assertEquals(Float.parseFloat(String.format(java.util.Locale.ROOT, "%.4f", loss)),
                Float.parseFloat(tables.replaceAll("(?s).*mean loss (\\S+) nats.*", "$1")));
        assertTrue(Files.readString(dir.resolve("explain.html")).contains("<canvas data-map=\"3\">"));
        for (int s = 0; s < row.length; s++) assertEquals(w[3][s], row[s], 1e-6f);
        assertTrue(trace.contains("head 1 q[3]") && trace.contains("(8 of 16)"), trace);
    }

    private static float max(float[] a) {
        float m = Float.NEGATIVE_INFINITY;
        for (float x : a) m = Math.max(m, x);
        return m;
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + part.length())) n++;
        return n;
    }
}
