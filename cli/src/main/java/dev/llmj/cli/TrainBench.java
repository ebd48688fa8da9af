package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Batcher;
import dev.llmj.io.Json;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.tensor.Parallel;
import dev.llmj.tensor.Rng;
import dev.llmj.train.TrainConfig;
import dev.llmj.train.TrainStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code llmj bench train}: the speed of full training steps (forward, loss, backward, clip, AdamW:
 * {@link TrainStep}, the calls {@code llmj train} makes) on a model of a named size with random
 * weights and random token batches, so no corpus is needed.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Training speed: full steps (forward, loss, backward, clipping, AdamW, as",
                "llmj train makes them) on random weights and random token batches of a preset's",
                "or shape's size. After a warm-up (at least --warmup steps and --warmup-seconds, and",
                "on, up to 4 × --warmup-seconds, until a step allocates under 1 KB: the JIT has",
                "compiled every kernel by then; interpreted vector code allocates),",
                "--steps steps are timed one by one. Prints the median ms/step, tokens/s, GFLOPS,",
                "the fraction of the FloatVector FMA peak, peak RSS and the bytes allocated per step."},
        footer = {"", "Presets (llmj train's; vocabulary 65 as with the char tokenizer):",
                "  tiny        2 layers, 4 heads, d=64, context 64, batch 16",
                "  small       4 layers, 4 heads, d=128, context 64, batch 12 (nanoGPT's recipe)",
                "  gpt2-124m   GPT-2 small: 12 layers, 12 heads, d=768, context 1024, batch 8,",
                "              vocabulary 50,257",
                "Shapes (the speed issue's recipes, run beside PyTorch; vocabulary 65):",
                "  small-t128  4 layers, 4 heads, d=128, context 128, batch 16",
                "  d384        6 layers, 6 heads, d=384, context 256, batch 8",
                "",
                "FLOPs per token = 6·N + 12·L·T·d, nanoGPT's estimate_mfu (after PaLM). N counts",
                "the weights of every matrix product (linear layers, LM head; not embedding",
                "lookups, norms or biases); 6 = 2 (multiply-add) × 3 (forward, backward to the",
                "input, backward to the weights). 12·L·T·d is attention's q·kᵀ and p·v over the",
                "whole T×T square, as the convention counts it (causal attention needs half).",
                "Peak: the FloatVector FMA peak of the threads, measured after the steps (24 chains",
                "of FMAs in registers per thread, best of 40 rounds): it depends on the CPU.",
                "", "Examples:", "  llmj bench train --shape d384 --json",
                "  llmj bench train --preset gpt2-124m --batch-size 1 --warmup 1 --warmup-seconds 0 --steps 2"})
final class TrainBench implements Callable<Integer> {
    /** A recipe to time: the model and the batch. lr and beta2 are the preset's (they do not change the speed). */
    record Recipe(ModelConfig config, int batch, float lr, float beta2) {}

    /** llmj train's presets, at their own batch and context (the char tokenizer's 65 symbols; GPT-2's vocabulary for gpt2-124m). */
    static final Map<String, Recipe> PRESETS = new LinkedHashMap<>();
    /** The speed issue's recipes, measured beside PyTorch (tools/pytorch_reference.py bench-train). */
    static final Map<String, Recipe> SHAPES = new LinkedHashMap<>();

    static {
        for (String name : new String[] {"tiny", "small", "gpt2-124m"}) {
            TrainCommand.Preset p = TrainCommand.PRESETS.get(name);
            int vocab = name.equals("gpt2-124m") ? 50257 : 65;
            PRESETS.put(name, new Recipe(ModelConfig.gpt2(vocab, p.context(), p.dModel(), p.layers(), p.heads(), 0f), p.batch(), p.lr(), p.beta2()));
        }
        SHAPES.put("small-t128", new Recipe(ModelConfig.gpt2(65, 128, 128, 4, 4, 0f), 16, 1e-3f, 0.99f));
        SHAPES.put("d384", new Recipe(ModelConfig.gpt2(65, 256, 384, 6, 6, 0f), 8, 1e-3f, 0.99f));
    }

    @Option(names = "--preset", paramLabel = "NAME", description = "One of llmj train's presets: tiny, small, gpt2-124m.")
    String preset;
    @Option(names = "--shape", paramLabel = "NAME", description = "One of the speed recipes: small-t128, d384.")
    String shape;
    @Option(names = "--steps", paramLabel = "N", defaultValue = "10", description = "Measured steps after the warm-up. Default: ${DEFAULT-VALUE}.")
    int steps;
    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
            description = "Warm-up steps, at least, so the JIT has compiled the kernels. Default: ${DEFAULT-VALUE}.")
    int warmup;
    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "3",
            description = "Warm up for at least this long too (small models need many steps). Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;
    @Option(names = "--batch-size", paramLabel = "B", description = "Sequences per step (default: the recipe's).")
    Integer batchSize;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "Seed for the weights and batches. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--json", description = "Print the figures as JSON.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if ((preset == null) == (shape == null)) {
            throw new LlmjException("give --preset NAME (" + String.join(", ", PRESETS.keySet()) + ") or --shape NAME (" + String.join(", ", SHAPES.keySet()) + ")");
        }
        Recipe recipe = preset != null ? PRESETS.get(preset) : SHAPES.get(shape);
        if (recipe == null && preset != null) throw new LlmjException("unknown --preset '" + preset + "': use " + String.join(", ", PRESETS.keySet()));
        if (recipe == null) {
            throw new LlmjException("unknown --shape '" + shape + "': use " + String.join(", ", SHAPES.keySet())
                    + (PRESETS.containsKey(shape) ? ", or --preset " + shape + " for llmj train's preset" : ""));
        }
        if (steps < 1) throw new LlmjException("--steps must be at least 1, not " + steps);
        if (warmup < 0 || !(warmupSeconds >= 0)) throw new LlmjException("--warmup and --warmup-seconds must not be negative");
        if (batchSize != null && batchSize < 1) throw new LlmjException("--batch-size must be at least 1, not " + batchSize);
        threads.apply();
        int B = batchSize != null ? batchSize : recipe.batch();
        try {
            return measure(recipe, B);
        } catch (OutOfMemoryError e) {
            throw new LlmjException("batch " + B + " × context " + recipe.config().contextLength() + " of this model does not fit the JVM's heap of "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB; give a smaller --batch-size, or a larger heap (LLMJ_JAVA_OPTS=-Xmx…)");
        }
    }

    private int measure(Recipe recipe, int B) {
        ModelConfig c = recipe.config();
        int T = c.contextLength(), V = c.vocabSize();
        DecoderLM model = new DecoderLM(c, seed);
        TrainConfig cfg = new TrainConfig(warmup + steps, B, T, 1, recipe.lr(), recipe.lr(), 0, warmup + steps, 0.1f, 0.9f, recipe.beta2(), 1e-8f,
                1.0f, 1, 1, 1, seed, 0.1, false).validate();
        TrainStep<Batcher.Batch> step = TrainStep.of(model, cfg);
        // random windows: every id uniform over the vocabulary, labels too (the loss stays near ln V; the work is the same)
        Rng rng = new Rng(seed + 1);
        Batcher.Batch batch = new Batcher.Batch(B, T, new int[B * T], new int[B * T]);
        Supplier<Batcher.Batch> batches = () -> {
            for (int i = 0; i < B * T; i++) {
                batch.inputIds()[i] = rng.nextInt(V);
                batch.labels()[i] = rng.nextInt(V);
            }
            return batch;
        };

        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long warmStart = System.nanoTime();
        int warmSteps = 0;
        float firstLoss = Float.NaN;
        for (long lastAlloc = Long.MAX_VALUE; ; ) {
            double elapsed = (System.nanoTime() - warmStart) / 1e9;
            boolean enough = warmSteps >= warmup && elapsed >= warmupSeconds;
            // a kernel the JIT has not compiled yet runs with its vectors as objects: a step that allocates is not warm
            if (enough && (lastAlloc < 1024 || elapsed >= 4 * warmupSeconds)) break;
            long before = mx.getTotalThreadAllocatedBytes();
            run(step, batches, cfg.lr());
            lastAlloc = mx.getTotalThreadAllocatedBytes() - before;
            if (warmSteps == 0) firstLoss = step.loss();
            warmSteps++;
        }
        double warmSeconds = (System.nanoTime() - warmStart) / 1e9;

        Parallel.resetStats(); // -Dllmj.parallelStats=true: the measured steps' regions only (and the FMA peak's, after)
        long gcBefore = gcCount(), allocBefore = mx.getTotalThreadAllocatedBytes();
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            run(step, batches, cfg.lr());
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (i == 0 && warmSteps == 0) firstLoss = step.loss();
        }
        long allocated = mx.getTotalThreadAllocatedBytes() - allocBefore, gcs = gcCount() - gcBefore;

        double msStep = BenchCommand.median(ms);
        double tokensPerSec = B * T / (msStep / 1e3);
        long nMatmul = matmulWeights(c);
        double flopsPerToken = 6.0 * nMatmul + 12.0 * c.nLayers() * T * c.dModel();
        double gflops = flopsPerToken * tokensPerSec / 1e9;
        double peak = Math.round(FmaPeak.gflops(Parallel.threads()) * 10) / 10.0;

        Map<String, Object> res = new LinkedHashMap<>();
        res.put(preset != null ? "preset" : "shape", preset != null ? preset : shape);
        res.put("family", c.family());
        res.put("layers", c.nLayers());
        res.put("heads", c.nHeads());
        res.put("d_model", c.dModel());
        res.put("context_length", T);
        res.put("batch_size", B);
        res.put("vocab_size", V);
        res.put("parameters", model.parameterCount());
        res.put("matmul_parameters", nMatmul);
        res.put("threads", Parallel.threads());
        res.put("warmup_steps", warmSteps);
        res.put("warmup_s", round(warmSeconds, 2));
        res.put("steps", steps);
        res.put("tokens_per_step", B * T);
        res.put("ms_per_step", round(msStep, 2));
        res.put("ms_per_step_min", round(min(ms), 2));
        res.put("ms_per_step_max", round(max(ms), 2));
        res.put("tokens_per_sec", round(tokensPerSec, 1));
        res.put("flops_per_token", (long) flopsPerToken);
        res.put("gflops", round(gflops, 2));
        res.put("peak_gflops", peak);
        res.put("peak_fraction", round(gflops / peak, 4));
        res.put("peak_rss_mb", round(BenchCommand.peakRss() / 1e6, 1));
        res.put("allocated_bytes_per_step", Math.round((double) allocated / steps));
        res.put("gc_count", gcs);
        res.put("loss_first", round(firstLoss, 4));
        res.put("loss_last", round(step.loss(), 4));

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(res));
            return 0;
        }
        out.printf("%s: %s, %d layers, %d heads, d=%d, context %d, batch %d, vocabulary %,d — %,d parameters; %d thread%s%n",
                res.values().iterator().next(), c.family(), c.nLayers(), c.nHeads(), c.dModel(), T, B, V, model.parameterCount(),
                Parallel.threads(), Parallel.threads() == 1 ? "" : "s");
        out.printf("warm-up  %d steps (%.1f s), then %d measured%n", warmSteps, warmSeconds, steps);
        out.printf("step     %,.1f ms (median; fastest %,.1f, slowest %,.1f)%n", msStep, min(ms), max(ms));
        out.printf("speed    %,.0f tokens/s%n", tokensPerSec);
        out.printf("compute  %.1f GFLOPS, %.1f%% of the FloatVector FMA peak (%.0f GFLOPS on %d thread%s, measured); %.2f MFLOP per token%n",
                gflops, 100 * gflops / peak, peak, Parallel.threads(), Parallel.threads() == 1 ? "" : "s", flopsPerToken / 1e6);
        out.printf("memory   peak RSS %,.0f MB; %,d bytes allocated per step, %d GC%s while measuring%n", BenchCommand.peakRss() / 1e6,
                Math.round((double) allocated / steps), gcs, gcs == 1 ? "" : "s");
        out.printf("loss     %.4f → %.4f (random labels: about ln %d = %.2f)%n", firstLoss, step.loss(), V, Math.log(V));
        return 0;
    }

    private static void run(TrainStep<Batcher.Batch> step, Supplier<Batcher.Batch> batches, float lr) {
        if (!step.run(batches, lr)) {
            throw new LlmjException("the loss (" + step.loss() + ") or the gradient norm (" + step.gradNorm() + ") stopped being finite");
        }
    }

    /**
     * The weights that enter a matrix product, from the shape: per layer q and o (d × H·hd each), k and v
     * (d × Hkv·hd each), the MLP (2 or, for SwiGLU, 3 matrices of d × hidden), and the LM head (V × d).
     * Embedding lookups, positions, norms and biases are not matrix products and do not count.
     */
    static long matmulWeights(ModelConfig c) {
        long d = c.dModel(), qd = (long) c.nHeads() * c.headDim(), kd = (long) c.nKvHeads() * c.headDim();
        long mlp = (c.activation() == dev.llmj.nn.Activation.SWIGLU ? 3L : 2L) * d * c.hiddenDim();
        return c.nLayers() * (2 * d * qd + 2 * d * kd + mlp) + (long) c.vocabSize() * d;
    }

    private static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, g.getCollectionCount());
        return n;
    }

    private static double min(double[] xs) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : xs) m = Math.min(m, x);
        return m;
    }

    private static double max(double[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : xs) m = Math.max(m, x);
        return m;
    }

    private static double round(double x, int digits) {
        double s = Math.pow(10, digits);
        return Math.round(x * s) / s;
    }
}
