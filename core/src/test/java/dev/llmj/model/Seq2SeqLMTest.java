package dev.llmj.model;

import dev.llmj.LlmjException;
import dev.llmj.io.Json;
import dev.llmj.io.Safetensors;
import dev.llmj.io.Seq2SeqFolder;
import dev.llmj.nn.Activation;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder–decoder: its gradients against central finite differences (cross-attention and both
 * padding masks included), its padding promises, its config, and torch.nn.Transformer's log-probs,
 * loss and every gradient from the committed fixtures.
 */
class Seq2SeqLMTest {
    static final int V = 9, B = 2, TS = 5, TT = 4;
    // source: row 0 five real tokens, row 1 three then padding; target: row 0 four, row 1 two then padding
    static final int[] SRC = {3, 4, 5, 6, 7, 8, 3, 5, 0, 0};
    static final boolean[] SRC_VALID = {true, true, true, true, true, true, true, true, false, false};
    static final int[] TGT = {1, 4, 6, 8, 1, 7, 0, 0};
    static final boolean[] TGT_VALID = {true, true, true, true, true, true, false, false};
    static final int I = CrossEntropy.IGNORE;
    static final int[] LABELS = {4, 6, 8, 2, 7, 2, I, I};

    static Seq2SeqConfig tiny(boolean normFirst, ModelConfig.Position position) {
        return new Seq2SeqConfig(V, 8, 8, 2, 2, 2, 16, Activation.GELU_ERF, normFirst, 0f, 1e-5f, position);
    }

    /** Random weights everywhere (biases and norm gains too), so a wrong bias or gain shows. */
    static Seq2SeqLM randomModel(Seq2SeqConfig c, long seed) {
        Seq2SeqLM m = new Seq2SeqLM(c, seed);
        Rng r = new Rng(seed + 100);
        for (Param p : m.params()) {
            for (int i = 0; i < p.value().length; i++) {
                p.value()[i] = (float) (r.nextGaussian() * (p.shape.length > 1 ? 0.3 : 0.1) + (p.shape.length == 1 && p.name.endsWith("norm1.weight") ? 1 : 0));
            }
        }
        return m;
    }

    static double loss(Seq2SeqLM m) {
        m.forward(SRC, SRC_VALID, B, TS, TGT, TGT_VALID, TT, false);
        return m.loss(LABELS);
    }

    void checkGradients(Seq2SeqConfig c, long seed) {
        Seq2SeqLM m = randomModel(c, seed);
        m.zeroGrad();
        loss(m);
        m.backward();
        Rng pick = new Rng(seed);
        float h = 1e-2f;
        for (Param p : m.params()) {
            for (int k = 0; k < 4; k++) {
                int i = pick.nextInt(p.size());
                if (p.name.equals("embedding.weight")) i = (k < 2 ? 5 : 3) * c.dModel() + pick.nextInt(c.dModel()); // ids used by both sides
                float keep = p.value()[i];
                p.value()[i] = keep + h;
                double up = loss(m);
                p.value()[i] = keep - h;
                double down = loss(m);
                p.value()[i] = keep;
                double numeric = (up - down) / (2 * h);
                assertEquals(numeric, p.grad()[i], 2e-3 + 3e-2 * Math.abs(numeric), p.name + "[" + i + "]");
            }
        }
    }

    @Test
    void postNormGradientsMatchFiniteDifferences() {
        checkGradients(tiny(false, ModelConfig.Position.SINUSOIDAL), 1);
    }

    @Test
    void preNormLearnedPositionGradientsMatchFiniteDifferences() {
        checkGradients(tiny(true, ModelConfig.Position.LEARNED), 2);
    }

    @Test
    void moreSourcePaddingChangesNoRealLogitAndPaddingGetsNoGradient() {
        Seq2SeqLM m = randomModel(tiny(false, ModelConfig.Position.SINUSOIDAL), 3);
        float[] logits = m.forward(SRC, SRC_VALID, B, TS, TGT, TGT_VALID, TT, false).clone();
        // the same batch with the source padded to 7 and junk ids in the padding
        int[] src = new int[B * 7];
        boolean[] valid = new boolean[B * 7];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < 7; t++) {
                src[b * 7 + t] = t < TS ? (SRC_VALID[b * TS + t] ? SRC[b * TS + t] : 6) : 7;
                valid[b * 7 + t] = t < TS && SRC_VALID[b * TS + t];
            }
        }
        float[] padded = m.forward(src, valid, B, 7, TGT, TGT_VALID, TT, false);
        for (int r = 0; r < B * TT; r++) {
            if (!TGT_VALID[r]) continue;
            for (int j = 0; j < V; j++) assertEquals(logits[r * V + j], padded[r * V + j], 2e-5f, "logit " + r + "," + j);
        }
        // id 0 sits only at padded positions of both sides: nothing reads them, so its row gets no gradient
        m.forward(SRC, SRC_VALID, B, TS, TGT, TGT_VALID, TT, false);
        m.zeroGrad();
        m.loss(LABELS);
        m.backward();
        for (int i = 0; i < 8; i++) assertEquals(0f, m.embedding.grad()[i], "the padding id's embedding gradient");
    }

    /**
     * After a larger batch, smaller or differently shaped ones (padding on both sides) give a fresh
     * model's bits: logits, loss, every gradient. Training batches vary in shape at every step.
     */
    @Test
    void aBatchAfterALargerOneGivesWhatAFreshModelGives() {
        for (Seq2SeqConfig c : new Seq2SeqConfig[] {tiny(false, ModelConfig.Position.SINUSOIDAL), tiny(true, ModelConfig.Position.LEARNED)}) {
            Seq2SeqLM used = randomModel(c, 3);
            run(used, 3, 7, 6, 1);
            for (int[] shape : new int[][] {{2, 4, 3}, {1, 6, 2}, {3, 2, 5}}) {
                float[] usedOut = run(used, shape[0], shape[1], shape[2], 2);
                Seq2SeqLM fresh = randomModel(c, 3);
                String at = shape[0] + "x" + shape[1] + "→" + shape[2];
                assertArrayEquals(run(fresh, shape[0], shape[1], shape[2], 2), usedOut, at + " logits and loss");
                for (int i = 0; i < fresh.params().size(); i++) {
                    assertArrayEquals(fresh.params().get(i).grad(), used.params().get(i).grad(), at + " " + fresh.params().get(i).name);
                }
            }
        }
    }

    /** Forward, loss and backward on random pairs of b rows, ts source and tt target tokens, the last row's two sides padded after one: the logits, then the loss. */
    private static float[] run(Seq2SeqLM m, int b, int ts, int tt, long seed) {
        Rng r = new Rng(seed);
        int[] src = new int[b * ts], tgt = new int[b * tt], labels = new int[b * tt];
        boolean[] srcValid = new boolean[b * ts], tgtValid = new boolean[b * tt];
        for (int i = 0; i < b * ts; i++) {
            src[i] = 1 + r.nextInt(V - 1);
            srcValid[i] = i < (b - 1) * ts + 1;
        }
        for (int i = 0; i < b * tt; i++) {
            tgt[i] = 1 + r.nextInt(V - 1);
            tgtValid[i] = i < (b - 1) * tt + 1;
            labels[i] = tgtValid[i] ? 1 + r.nextInt(V - 1) : I;
        }
        m.zeroGrad();
        float[] out = java.util.Arrays.copyOf(m.forward(src, srcValid, b, ts, tgt, tgtValid, tt, false), b * tt * V + 1);
        out[b * tt * V] = m.loss(labels);
        m.backward();
        return out;
    }

    @Test
    void configRoundTripsAndRejectsNonsense() {
        Seq2SeqConfig c = new Seq2SeqConfig(40, 32, 64, 2, 3, 4, 128, Activation.RELU, false, 0.1f, 1e-5f, ModelConfig.Position.SINUSOIDAL);
        Map<String, Object> json = Json.obj(Json.parse(Json.pretty(c.toJson(0, 1, 2)), "config"), "config");
        assertEquals("llmj-seq2seq", json.get("model_type"));
        assertEquals(c, Seq2SeqConfig.fromJson(json, "config.json"));
        LlmjException e = assertThrows(LlmjException.class,
                () -> new Seq2SeqConfig(40, 32, 60, 2, 2, 8, 128, Activation.RELU, false, 0f, 1e-5f, ModelConfig.Position.SINUSOIDAL).validate());
        assertTrue(e.getMessage().contains("does not divide"), e.getMessage());
        e = assertThrows(LlmjException.class,
                () -> new Seq2SeqConfig(40, 32, 64, 2, 2, 4, 128, Activation.SWIGLU, false, 0f, 1e-5f, ModelConfig.Position.SINUSOIDAL).validate());
        assertTrue(e.getMessage().contains("relu or gelu_erf"), e.getMessage());
        e = assertThrows(LlmjException.class,
                () -> new Seq2SeqConfig(40, 32, 64, 2, 2, 4, 128, Activation.RELU, false, 0f, 1e-5f, ModelConfig.Position.ROPE).validate());
        assertTrue(e.getMessage().contains("sinusoidal or learned"), e.getMessage());
        e = assertThrows(LlmjException.class, () -> new Seq2SeqLM(c, 0).forward(new int[40], null, 1, 40, new int[2], null, 2, false));
        assertTrue(e.getMessage().contains("source of 40 tokens is longer than the model's context length 32"), e.getMessage());
    }

    // ---------------------------------------------------------------- PyTorch

    @TestFactory
    Stream<DynamicTest> matchesTorchNnTransformer() {
        return Stream.of("transformer", "transformer-prenorm-gelu").map(name -> DynamicTest.dynamicTest(name, () -> {
            Path file = Path.of(Seq2SeqLMTest.class.getResource("/fixtures/" + name + ".safetensors").toURI());
            Map<String, Safetensors.Tensor> t = Safetensors.read(file);
            Map<String, Object> c = Json.obj(Json.parse(Safetensors.metadata(file).get("config"), "config"), "config");
            int[] src = ints(t.get("input.src").data()), tgt = ints(t.get("input.tgt_in").data()), labels = ints(t.get("input.labels").data());
            int b = t.get("input.src").shape()[0], ts = t.get("input.src").shape()[1], tt = t.get("input.tgt_in").shape()[1];
            int pad = num(c, "pad_id"), v = num(c, "vocab_size");
            boolean[] srcValid = new boolean[src.length], tgtValid = new boolean[tgt.length];
            for (int i = 0; i < src.length; i++) srcValid[i] = src[i] != pad;
            for (int i = 0; i < tgt.length; i++) tgtValid[i] = tgt[i] != pad;
            for (int i = 0; i < labels.length; i++) if (labels[i] == pad) labels[i] = CrossEntropy.IGNORE;
            Seq2SeqConfig config = new Seq2SeqConfig(v, 16, num(c, "d_model"), num(c, "num_encoder_layers"), num(c, "num_decoder_layers"),
                    num(c, "nhead"), num(c, "dim_feedforward"), Activation.valueOf(((String) c.get("llmj_activation")).toUpperCase(java.util.Locale.ROOT)),
                    (Boolean) c.get("norm_first"), 0f, ((Number) c.get("layer_norm_eps")).floatValue(), ModelConfig.Position.SINUSOIDAL);
            Seq2SeqLM m = new Seq2SeqLM(config, 0);
            Seq2SeqFolder.load(m, t, "param.", name);

            m.zeroGrad();
            float[] logits = m.forward(src, srcValid, b, ts, tgt, tgtValid, tt, false);
            float loss = m.loss(labels);
            m.backward();
            assertEquals(t.get("output.loss").data()[0], loss, 2e-5, "loss");
            float[] want = t.get("output.log_probs").data(), logp = new float[v];
            for (int r = 0; r < b * tt; r++) {
                if (!tgtValid[r]) continue; // padded rows count for nothing (the fixture's docstring)
                logSoftmax(logits, r * v, v, logp);
                for (int j = 0; j < v; j++) assertEquals(want[r * v + j], logp[j], 3e-5f, "log_probs[" + r + ", " + j + "]");
            }
            Map<String, Safetensors.Tensor> grads = Seq2SeqFolder.tensors(m, p -> p.grad());
            for (Map.Entry<String, Safetensors.Tensor> e : grads.entrySet()) {
                float[] g = t.get("grad." + e.getKey()).data(), have = e.getValue().data();
                float scale = 0f;
                for (float x : g) scale = Math.max(scale, Math.abs(x));
                for (int i = 0; i < g.length; i++) {
                    assertEquals(g[i], have[i], 2e-5f + 2e-4f * scale, "grad " + e.getKey() + "[" + i + "]"); // the key bias: 0 plus rounding noise
                }
            }
        }));
    }

    static void logSoftmax(float[] x, int off, int n, float[] out) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < n; j++) max = Math.max(max, x[off + j]);
        for (int j = 0; j < n; j++) sum += Math.exp(x[off + j] - max);
        for (int j = 0; j < n; j++) out[j] = (float) (x[off + j] - max - Math.log(sum));
    }

    static int num(Map<String, Object> c, String key) {
        return ((Number) c.get(key)).intValue();
    }

    static int[] ints(float[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = (int) a[i];
        return r;
    }
}
