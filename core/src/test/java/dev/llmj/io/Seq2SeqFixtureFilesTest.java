package dev.llmj.io;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder and encoder–decoder fixtures ({@code tools/pytorch_reference.py seq2seq-fixtures}) read
 * through llmj's own reader and agree with what the script's docstring says they hold: masks from the
 * row lengths, the loss from the outputs, no gradient at padded inputs, the embedding from its table
 * and sinusoidal positions. The models themselves are tested against these files elsewhere.
 */
class Seq2SeqFixtureFilesTest {

    @TestFactory
    Stream<DynamicTest> encoderLayers() {
        return Stream.of("encoder-layer", "encoder-layer-prenorm-relu").map(name -> DynamicTest.dynamicTest(name, () -> {
            Path file = fixture(name);
            Map<String, Safetensors.Tensor> t = Safetensors.read(file);
            Map<String, Object> c = config(file);
            int d = (int) Json.num(c.get("d_model"), "d_model");
            int[] lengths = ints(Json.arr(c.get("lengths"), "lengths"));
            int B = lengths.length, T = t.get("input.x").shape()[1];
            assertArrayEquals(new int[] {B, T, d}, t.get("output.y").shape());
            float[] pad = t.get("input.pad_mask").data(), y = t.get("output.y").data(), r = t.get("input.R").data();
            float[] dx = t.get("grad.input.x").data();
            double loss = 0, realGrad = 0;
            for (int b = 0; b < B; b++)
                for (int s = 0; s < T; s++) {
                    assertEquals(s >= lengths[b] ? 1f : 0f, pad[b * T + s], "pad_mask[" + b + "," + s + "]");
                    for (int i = 0; i < d; i++) {
                        int k = (b * T + s) * d + i;
                        if (s >= lengths[b]) assertEquals(0f, dx[k], "no gradient reaches padded input [" + b + "," + s + "]");
                        else {
                            loss += (double) y[k] * r[k];
                            realGrad = Math.max(realGrad, Math.abs(dx[k]));
                        }
                    }
                }
            assertEquals(t.get("output.loss").data()[0], loss, 1e-5 * Math.max(1, Math.abs(loss)), "loss = Σ y·R over real rows");
            assertTrue(realGrad > 1e-3, "real positions have a gradient");
            assertParamsHaveGrads(t, 12); // in_proj, out_proj, linear1, linear2, norm1, norm2: weight and bias each
        }));
    }

    @TestFactory
    Stream<DynamicTest> transformers() {
        return Stream.of("transformer", "transformer-prenorm-gelu").map(name -> DynamicTest.dynamicTest(name, () -> {
            Path file = fixture(name);
            Map<String, Safetensors.Tensor> t = Safetensors.read(file);
            Map<String, Object> c = config(file);
            int d = (int) Json.num(c.get("d_model"), "d_model"), V = (int) Json.num(c.get("vocab_size"), "vocab_size");
            int[] srcLen = ints(Json.arr(c.get("src_lengths"), "src_lengths")), tgtLen = ints(Json.arr(c.get("tgt_lengths"), "tgt_lengths"));
            float[] src = t.get("input.src").data(), tgt = t.get("input.tgt_in").data(), labels = t.get("input.labels").data();
            int B = srcLen.length, S = t.get("input.src").shape()[1], T = t.get("input.tgt_in").shape()[1];
            assertArrayEquals(new int[] {B, T, V}, t.get("output.log_probs").shape());
            for (int b = 0; b < B; b++) {
                for (int s = 0; s < S; s++) {
                    assertEquals(s >= srcLen[b], src[b * S + s] == 0f, "source pad ids follow the lengths");
                    assertEquals(src[b * S + s] == 0f ? 1f : 0f, t.get("input.src_pad_mask").data()[b * S + s], "src_pad_mask");
                }
                assertEquals(1f, tgt[b * T], "tgt_in starts with bos");
                for (int s = 0; s < T; s++) {
                    assertEquals(tgt[b * T + s] == 0f ? 1f : 0f, t.get("input.tgt_pad_mask").data()[b * T + s], "tgt_pad_mask");
                    float expected = s >= tgtLen[b] ? 0f : s == tgtLen[b] - 1 ? 2f : tgt[b * T + s + 1];
                    assertEquals(expected, labels[b * T + s], "labels are tgt_in shifted left, eos last, then pad");
                }
            }
            // the embedding: E[id]·√d + PE[pos], PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(…)
            float[] e = t.get("param.embedding.weight").data(), emb = t.get("output.src_embedded").data();
            for (int b = 0; b < B; b++)
                for (int s = 0; s < S; s++)
                    for (int i = 0; i < d; i++) {
                        double angle = s / Math.pow(10000, (i - i % 2) / (double) d);
                        double want = e[(int) src[b * S + s] * d + i] * Math.sqrt(d) + (i % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
                        assertEquals(want, emb[(b * S + s) * d + i], 1e-5, "src_embedded[" + b + "," + s + "," + i + "]");
                    }
            // log-probabilities normalise, and the loss is their mean −log p(label) over the labels that are not pad
            float[] lp = t.get("output.log_probs").data();
            double nll = 0;
            int count = 0;
            for (int row = 0; row < B * T; row++) {
                double sum = 0;
                for (int v = 0; v < V; v++) sum += Math.exp(lp[row * V + v]);
                assertEquals(1.0, sum, 1e-5, "probabilities of row " + row + " sum to 1");
                if (labels[row] != 0f) {
                    nll -= lp[row * V + (int) labels[row]];
                    count++;
                }
            }
            assertEquals(11, count);
            assertEquals(t.get("output.loss").data()[0], nll / count, 1e-5, "loss");
            for (int i = 0; i < d; i++) assertEquals(0f, t.get("grad.embedding.weight").data()[i], "the pad row gets no gradient");
            assertParamsHaveGrads(t, 3 + 2 * 12 + 2 + 2 * 18 + 2); // embedding, generator; encoder layers, norm; decoder layers (+ cross-attention, norm3), norm
        }));
    }

    private static void assertParamsHaveGrads(Map<String, Safetensors.Tensor> t, int expectedParams) {
        List<String> params = t.keySet().stream().filter(k -> k.startsWith("param.")).toList();
        assertEquals(expectedParams, params.size(), "parameter tensors");
        for (String p : params) {
            Safetensors.Tensor g = t.get("grad." + p.substring("param.".length()));
            assertNotNull(g, "gradient of " + p);
            assertArrayEquals(t.get(p).shape(), g.shape(), "gradient shape of " + p);
        }
    }

    private static Path fixture(String name) throws Exception {
        return Path.of(Seq2SeqFixtureFilesTest.class.getResource("/fixtures/" + name + ".safetensors").toURI());
    }

    private static Map<String, Object> config(Path file) {
        return Json.obj(Json.parse(Safetensors.metadata(file).get("config"), "config"), "config");
    }

    private static int[] ints(List<Object> a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (int) Json.num(a.get(i), "length");
        return out;
    }
}
