package dev.llmj.bench;

import dev.llmj.generate.GenerationConfig;
import dev.llmj.generate.Sampler;
import dev.llmj.model.DecoderLM;
import dev.llmj.nn.Attention;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.nn.LayerNorm;
import dev.llmj.nn.Workspace;
import dev.llmj.tensor.Rng;
import dev.llmj.train.AdamW;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The fused layers and the optimizer: attention (forward and backward over a whole batch, and one
 * decoded token over the KV cache), LayerNorm, softmax + cross-entropy + its gradient, and the AdamW
 * update, at the training recipes' and GPT-2 small's shapes ({@link Shapes}). Time per call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class LayersBench {

    static void randomize(List<dev.llmj.nn.Param> params, long seed) {
        Rng r = new Rng(seed);
        for (dev.llmj.nn.Param p : params) for (int i = 0; i < p.value().length; i++) p.value()[i] = (float) (r.nextGaussian() * 0.02);
    }

    /** Causal multi-head attention of a training recipe, with its q, k, v, o projections; forward run once so backward has its inputs. */
    @State(Scope.Benchmark)
    public static class Attn {
        @Param({"s128", "d384"})
        public String shape;
        @Param({"2"})
        public int threads;
        Shapes.Layer l;
        Attention attn;
        float[] x, dy;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            l = Shapes.get(Shapes.LAYERS, shape);
            attn = new Attention("attn", l.d(), l.heads(), l.heads(), true, null);
            randomize(attn.params(), 5);
            x = Shapes.random(l.rows() * l.d(), 1f, 1);
            dy = Shapes.random(l.rows() * l.d(), 1e-3f, 2);
            attn.forward(x, l.batch(), l.time());
        }
    }

    /** x [B·T, d] → y: projections, scores over the causal half, softmax, p·v, output projection. */
    @Benchmark
    public float[] attentionForward(Attn s) {
        return s.attn.forward(s.x, s.l.batch(), s.l.time());
    }

    /** dy → dx and the projections' weight gradients (the last forward's activations). */
    @Benchmark
    public float[] attentionBackward(Attn s) {
        return s.attn.backward(s.dy);
    }

    /** One new token of GPT-2 small attending over a KV cache that holds {@code position} tokens. */
    @State(Scope.Benchmark)
    public static class AttnDecode {
        @Param({"128", "512"})
        public int position;
        @Param({"2"})
        public int threads;
        Attention attn;
        float[] x, keys, values;
        final int capacity = 1024;
        final int[] rows = {0};
        int[] start;
        final Workspace ws = new Workspace();
        float[] y;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            Shapes.Layer l = Shapes.get(Shapes.LAYERS, "gpt2");
            attn = new Attention("attn", l.d(), l.heads(), l.heads(), true, null);
            randomize(attn.params(), 5);
            x = Shapes.random(l.d(), 1f, 1);
            keys = Shapes.random(capacity * l.d(), 1f, 2);
            values = Shapes.random(capacity * l.d(), 1f, 3);
            start = new int[] {position};
            y = new float[l.d()];
        }
    }

    /** q, k, v for the token (over the packed weights' strips), its k and v into the cache, scores and p·v over positions 0..position, o. */
    @Benchmark
    public float[] attentionDecode(AttnDecode s) {
        return s.attn.forwardCached(s.x, 1, 1, s.rows, s.start, s.keys, s.values, s.capacity, s.y, s.ws);
    }

    /** LayerNorm over the rows of a training batch (s128, d384) or one decoded token (gpt2). */
    @State(Scope.Benchmark)
    public static class Norm {
        @Param({"s128", "d384", "gpt2"})
        public String shape;
        @Param({"2"})
        public int threads;
        LayerNorm norm;
        float[] x, dy;
        int rows;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            Shapes.Layer l = Shapes.get(Shapes.LAYERS, shape);
            rows = l.rows();
            norm = new LayerNorm("norm", l.d(), 1e-5f, true);
            randomize(norm.params(), 6);
            for (int i = 0; i < l.d(); i++) norm.weight.value()[i] += 1f;
            x = Shapes.random(rows * l.d(), 1f, 1);
            dy = Shapes.random(rows * l.d(), 1e-3f, 2);
            norm.forward(x, rows);
        }
    }

    @Benchmark
    public float[] layerNormForward(Norm s) {
        return s.norm.forward(s.x, s.rows);
    }

    @Benchmark
    public float[] layerNormBackward(Norm s) {
        return s.norm.backward(s.dy);
    }

    /** Softmax, loss and gradient over the logits: the recipes' [2048, 65], and one 1,024-token GPT-2 sequence's [1024, 50257]. */
    @State(Scope.Benchmark)
    public static class Loss {
        @Param({"s128", "gpt2"})
        public String shape;
        @Param({"2"})
        public int threads;
        float[] logits, dlogits, rowLoss;
        int[] labels;
        int rows, vocab;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            rows = shape.equals("gpt2") ? 1024 : 2048; // d384's batch has the same 2,048 rows of 65 as s128's
            vocab = shape.equals("gpt2") ? 50257 : 65;
            logits = Shapes.random(rows * vocab, 1f, 1);
            dlogits = new float[rows * vocab];
            rowLoss = new float[rows];
            labels = new int[rows];
            Rng r = new Rng(2);
            for (int i = 0; i < rows; i++) labels[i] = r.nextInt(vocab);
        }
    }

    @Benchmark
    public float crossEntropy(Loss s) {
        return CrossEntropy.forwardBackward(s.logits, s.labels, s.rows, s.vocab, s.dlogits, s.rowLoss);
    }

    /** One AdamW update of every parameter of a whole model (0.8 M for s128, 10.7 M for d384, 124 M for gpt2). */
    @State(Scope.Benchmark)
    public static class Optimizer {
        @Param({"s128", "d384", "gpt2"})
        public String shape;
        @Param({"2"})
        public int threads;
        AdamW adam;

        @Setup
        public void setup() {
            Shapes.threads(threads);
            List<dev.llmj.nn.Param> params = new DecoderLM(Shapes.get(Shapes.MODELS, shape), 1).params();
            Rng r = new Rng(3);
            for (dev.llmj.nn.Param p : params) for (int i = 0; i < p.grad().length; i++) p.grad()[i] = (float) (r.nextGaussian() * 1e-3);
            adam = new AdamW(params, 0.9f, 0.95f, 1e-8f, 0.1f);
        }
    }

    @Benchmark
    public AdamW adamW(Optimizer s) {
        s.adam.step(1e-4f);
        return s.adam;
    }

    /** Drawing the next token from a 110M Llama's 32,000 logits: at temperature 1, with top-k 40, with top-p 0.9. */
    @State(Scope.Benchmark)
    public static class Sampling {
        @Param({"plain", "topk40", "topp0.9"})
        public String filter;
        float[] logits;
        Sampler sampler;

        @Setup
        public void setup() {
            logits = Shapes.random(32000, 3f, 4);
            sampler = new Sampler(switch (filter) {
                case "topk40" -> new GenerationConfig(256, 1f, 40, 1f, 0f, 1f, 1, List.of(), false);
                case "topp0.9" -> new GenerationConfig(256, 1f, 0, 0.9f, 0f, 1f, 1, List.of(), false);
                default -> GenerationConfig.defaults();
            }, 32000, 7);
        }
    }

    @Benchmark
    public int sample(Sampling s) {
        return s.sampler.sample(s.logits, 0);
    }
}
