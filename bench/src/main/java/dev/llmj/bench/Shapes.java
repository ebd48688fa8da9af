package dev.llmj.bench;

import dev.llmj.model.ModelConfig;
import dev.llmj.tensor.Parallel;
import dev.llmj.tensor.Rng;

import java.util.Map;

/**
 * The shapes the benchmarks run at, named in each benchmark's {@code case} parameter as
 * {@code RECIPE.PART}:
 * <pre>
 *   s128   the small-t128 training recipe: 4 layers, 4 heads, d=128, context 128, batch 16 (R = B·T = 2,048 rows), vocabulary 65
 *   d384   the d384 training recipe: 6 layers, 6 heads, d=384, context 256, batch 8 (R = 2,048 rows), vocabulary 65
 *   gpt2   GPT-2 small (124M): d=768, 12 heads, MLP 3,072, vocabulary 50,257; decoding is R = 1 row,
 *          prefill of a 128-token prompt R = 128 rows
 * </pre>
 * and the part: {@code qkvo} (each of q, k, v, o: d → d), {@code fc} (d → 4d), {@code proj}
 * (4d → d), {@code head} (d → V), the same products as {@code llmj bench train} and {@code bench generate} run.
 */
final class Shapes {
    private Shapes() {}

    /** A matrix product: R rows of X [R, in] against a weight [out, in]. */
    record Matmul(int rows, int in, int out) {
        /** Multiply-adds × 2. */
        double flops() {
            return 2.0 * rows * in * out;
        }
    }

    static final Map<String, Matmul> TRAIN = Map.of(
            "s128.qkvo", new Matmul(2048, 128, 128),
            "s128.fc", new Matmul(2048, 128, 512),
            "s128.proj", new Matmul(2048, 512, 128),
            "s128.head", new Matmul(2048, 128, 65),
            "d384.qkvo", new Matmul(2048, 384, 384),
            "d384.fc", new Matmul(2048, 384, 1536),
            "d384.proj", new Matmul(2048, 1536, 384),
            "d384.head", new Matmul(2048, 384, 65),
            "gpt2prefill.fc", new Matmul(128, 768, 3072),
            "gpt2prefill.proj", new Matmul(128, 3072, 768));

    static final Map<String, Matmul> DECODE = Map.of(
            "gpt2.qkvo", new Matmul(1, 768, 768),
            "gpt2.fc", new Matmul(1, 768, 3072),
            "gpt2.proj", new Matmul(1, 3072, 768),
            "gpt2.head", new Matmul(1, 768, 50257));

    /** Attention and LayerNorm cases: batch, context, d, heads. */
    record Layer(int batch, int time, int d, int heads) {
        int rows() {
            return batch * time;
        }
    }

    static final Map<String, Layer> LAYERS = Map.of(
            "s128", new Layer(16, 128, 128, 4),
            "d384", new Layer(8, 256, 384, 6),
            "gpt2", new Layer(1, 1, 768, 12));  // one decoded token

    /** Whole models, for the optimizer (AdamW updates every parameter). */
    static final Map<String, ModelConfig> MODELS = Map.of(
            "s128", ModelConfig.gpt2(65, 128, 128, 4, 4, 0f),
            "d384", ModelConfig.gpt2(65, 256, 384, 6, 6, 0f),
            "gpt2", ModelConfig.gpt2(50257, 1024, 768, 12, 12, 0f));

    static <T> T get(Map<String, T> cases, String name) {
        T t = cases.get(name);
        if (t == null) throw new IllegalArgumentException("unknown case '" + name + "': use one of " + new java.util.TreeSet<>(cases.keySet()));
        return t;
    }

    /** N(0, scale) values, seeded: the kernels' speed does not depend on them (no zeros, no subnormals). */
    static float[] random(int n, float scale, long seed) {
        Rng r = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static void threads(int n) {
        Parallel.setThreads(n);
    }
}
