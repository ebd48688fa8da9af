package dev.llmj.model;

import dev.llmj.io.Safetensors;
import dev.llmj.nn.Activation;
import dev.llmj.nn.Attention;
import dev.llmj.nn.Block;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Linear;
import dev.llmj.nn.Mlp;
import dev.llmj.nn.Param;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * llmj's encoder {@link Block} against {@code torch.nn.TransformerEncoderLayer} (PyTorch 1.13;
 * fixtures by {@code tools/pytorch_reference.py fixtures}): post-norm with GELU as BERT, pre-norm
 * with ReLU, a key padding mask; output at the real positions, the input gradient and every
 * parameter gradient of loss = Σ y·R over the real positions.
 */
class EncoderFixtureTest {
    static final int B = 3, T = 5, D = 16, HEADS = 4, HIDDEN = 32;

    @TestFactory
    Stream<DynamicTest> encoderLayerMatchesPyTorch() {
        return Stream.of("encoder-layer", "encoder-layer-prenorm-relu").map(name -> DynamicTest.dynamicTest(name, () -> {
            Path file = Path.of(EncoderFixtureTest.class.getResource("/fixtures/" + name + ".safetensors").toURI());
            Map<String, Safetensors.Tensor> t = Safetensors.read(file);
            boolean postNorm = name.equals("encoder-layer");
            Block block = new Block(new LayerNorm("norm1", D, 1e-5f, true), new Attention("attn", D, HEADS, HEADS, true, null, false), null, null,
                    new LayerNorm("norm2", D, 1e-5f, true), new Mlp("mlp", D, HIDDEN, postNorm ? Activation.GELU_ERF : Activation.RELU, true),
                    0f, postNorm);
            Attention a = block.attn;
            // in_proj [3d, d] and its bias: rows 0..d-1 are q, then k, then v
            Param[] qkvW = {a.q.weight, a.k.weight, a.v.weight}, qkvB = {a.q.bias, a.k.bias, a.v.bias};
            for (int i = 0; i < 3; i++) {
                System.arraycopy(t.get("param.self_attn.in_proj_weight").data(), i * D * D, qkvW[i].value(), 0, D * D);
                System.arraycopy(t.get("param.self_attn.in_proj_bias").data(), i * D, qkvB[i].value(), 0, D);
            }
            Map<String, Param> named = new java.util.LinkedHashMap<>();
            linear(named, "self_attn.out_proj", a.o);
            linear(named, "linear1", block.mlp.fc);
            linear(named, "linear2", block.mlp.proj);
            named.put("norm1.weight", ((LayerNorm) block.norm1).weight);
            named.put("norm1.bias", ((LayerNorm) block.norm1).bias);
            named.put("norm2.weight", ((LayerNorm) block.norm2).weight);
            named.put("norm2.bias", ((LayerNorm) block.norm2).bias);
            named.forEach((n, p) -> System.arraycopy(t.get("param." + n).data(), 0, p.value(), 0, p.size()));

            float[] x = t.get("input.x").data(), pad = t.get("input.pad_mask").data(), r = t.get("input.R").data();
            boolean[] valid = new boolean[B * T];
            for (int i = 0; i < B * T; i++) valid[i] = pad[i] == 0f;
            float[] y = block.forward(x.clone(), B, T, valid, null, 0, null, false, null);
            float[] want = t.get("output.y").data(), dy = new float[B * T * D];
            for (int row = 0; row < B * T; row++) {
                if (!valid[row]) continue;
                for (int i = 0; i < D; i++) {
                    assertEquals(want[row * D + i], y[row * D + i], 2e-5, "y row " + row + " [" + i + "]");
                    dy[row * D + i] = r[row * D + i];      // dL/dy = R at real rows, 0 at padding
                }
            }
            for (Param p : block.params()) p.zeroGrad();
            float[] dx = block.backward(dy);
            close("grad.input.x", t.get("grad.input.x").data(), dx, 1e-4f);
            float[] gw = t.get("grad.self_attn.in_proj_weight").data(), gb = t.get("grad.self_attn.in_proj_bias").data();
            for (int i = 0; i < 3; i++) {
                close("in_proj_weight part " + i, java.util.Arrays.copyOfRange(gw, i * D * D, (i + 1) * D * D), qkvW[i].grad(), 1e-4f);
                close("in_proj_bias part " + i, java.util.Arrays.copyOfRange(gb, i * D, (i + 1) * D), qkvB[i].grad(), 1e-4f); // the key bias: 0 ± rounding
            }
            named.forEach((n, p) -> close("grad." + n, t.get("grad." + n).data(), p.grad(), 1e-4f));
        }));
    }

    private static void linear(Map<String, Param> m, String name, Linear l) {
        m.put(name + ".weight", l.weight);
        m.put(name + ".bias", l.bias);
    }

    /** Within tol·(1 + |want|), element by element. */
    private static void close(String what, float[] want, float[] got, float tol) {
        assertEquals(want.length, got.length, what + " size");
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), what + "[" + i + "]");
    }
}
