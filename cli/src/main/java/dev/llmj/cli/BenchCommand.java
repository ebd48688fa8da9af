package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.generate.GenerationConfig;
import dev.llmj.generate.Generator;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.KvCache;
import dev.llmj.model.ModelConfig;
import dev.llmj.tensor.Parallel;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj bench}: measured speed, reported as medians after a warm-up. Benchmarks, never tests. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure llmj's speed (medians of several runs after a warm-up).",
        subcommands = {BenchCommand.TokenizerBench.class, BenchCommand.GenerateBench.class, TrainBench.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "tokenizer", mixinStandardHelpOptions = true,
            description = {"BPE training time for a vocabulary of --vocab-size on the corpus, and encode throughput (MB/s) of",
                    "the trained tokenizer, or of --tokenizer if given. One thread."},
            footer = {"", "Example:", "  llmj bench tokenizer --runs 5 --json"})
    static final class TokenizerBench implements Callable<Integer> {
        @Option(names = "--data", paramLabel = "FILE", description = "Corpus (default: the bundled tinyshakespeare.txt).")
        Path data;

        @Option(names = "--tokenizer", paramLabel = "FILE", description = "Measure encoding with this tokenizer instead of training one.")
        Path tokenizer;

        @Option(names = "--vocab-size", paramLabel = "N", defaultValue = "4096", description = "BPE vocabulary size to train. Default: ${DEFAULT-VALUE}.")
        int vocabSize;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Measured runs after one warm-up. Default: ${DEFAULT-VALUE}.")
        int runs;

        @Option(names = "--json", description = "Print the figures as JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (runs < 1) throw new LlmjException("--runs must be at least 1");
            Path corpusPath = data != null ? data : Main.defaultCorpus();
            String text = Corpus.read(corpusPath);
            double mb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("corpus", Main.shown(corpusPath));
            result.put("corpus_mb", mb);
            Tokenizer tok;
            if (tokenizer != null) {
                tok = TokenizerJson.read(tokenizer);
            } else {
                double[] secs = new double[runs];
                tok = BpeTrainer.train(text, vocabSize, List.of(SpecialTokens.Role.EOS), null); // warm-up
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    tok = BpeTrainer.train(text, vocabSize, List.of(SpecialTokens.Role.EOS), null);
                    secs[i] = (System.nanoTime() - t0) / 1e9;
                }
                result.put("vocab_size", vocabSize);
                result.put("train_seconds", median(secs));
            }
            double[] mbps = new double[runs];
            int tokens = tok.encode(text).length; // warm-up
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                tok.encode(text);
                mbps[i] = mb / ((System.nanoTime() - t0) / 1e9);
            }
            result.put("tokens", tokens);
            result.put("encode_mb_per_sec", median(mbps));
            result.put("runs", runs);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(result));
                return 0;
            }
            out.printf("corpus: %s (%.2f MB, %,d tokens)%n", Main.shown(corpusPath), mb, tokens);
            if (result.containsKey("train_seconds")) {
                out.printf("BPE training to %,d tokens: %.2f s (median of %d)%n", vocabSize, (double) result.get("train_seconds"), runs);
            }
            out.printf("encode: %.1f MB/s (median of %d, one thread)%n", median(mbps), runs);
            return 0;
        }

    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Peak resident memory of this process in bytes (Linux), or -1. */
    static long peakRss() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return -1;
    }

    /** Model shapes to benchmark without a download: random weights, the real sizes. */
    static final Map<String, ModelConfig> SHAPES = new LinkedHashMap<>();
    static {
        SHAPES.put("small", ModelConfig.gpt2(65, 64, 128, 4, 4, 0f));                    // the small preset (char Shakespeare)
        SHAPES.put("gpt2-124m", ModelConfig.gpt2(50257, 1024, 768, 12, 12, 0f));         // GPT-2 small
        SHAPES.put("llama-110m", ModelConfig.llama(32000, 1024, 768, 12, 12, 12, 2048));  // llama2.c's stories110M
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Prefill (reading a prompt) and decode (writing one token at a time with the KV cache) speeds, measured",
                    "separately: median tokens/s over --runs after a warm-up, on a model folder or a named shape with random weights."},
            footer = {"", "Shapes: small, gpt2-124m, llama-110m.", "Example:", "  llmj bench generate --shape gpt2-124m --prompt-tokens 128 --new-tokens 64 --json"})
    static final class GenerateBench implements Callable<Integer> {
        @Option(names = "--model", paramLabel = "DIR", description = "A model folder.")
        Path model;
        @Option(names = "--shape", paramLabel = "NAME", description = "A named shape with random weights: small, gpt2-124m, llama-110m.")
        String shape;
        @Option(names = "--prompt-tokens", paramLabel = "N", description = "Prompt length. Default: 128, or half the context if shorter.")
        Integer promptTokens;
        @Option(names = "--new-tokens", paramLabel = "N", description = "Tokens to generate. Default: 128, or what is left of the context.")
        Integer newTokens;
        @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "Sequences generated together. Default: ${DEFAULT-VALUE}.")
        int batch;
        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Measured runs after a warm-up (3 runs and 3 s at least). Default: ${DEFAULT-VALUE}.")
        int runs;
        @Mixin
        ThreadsOption threads;
        @Option(names = "--json", description = "Print the figures as JSON.")
        boolean json;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if ((model == null) == (shape == null)) throw new LlmjException("give --model DIR or --shape NAME (" + String.join(", ", SHAPES.keySet()) + ")");
            if (runs < 1) throw new LlmjException("--runs must be at least 1");
            if (batch < 1) throw new LlmjException("--batch must be at least 1");
            threads.apply();
            DecoderLM m;
            if (model != null) {
                m = ModelFolder.load(model).model();
            } else {
                ModelConfig c = SHAPES.get(shape);
                if (c == null) throw new LlmjException("unknown --shape '" + shape + "': use " + String.join(", ", SHAPES.keySet()));
                m = new DecoderLM(c, 1);
            }
            int ctx = m.config.contextLength();
            int prompt = promptTokens != null ? promptTokens : Math.min(128, ctx / 2);
            if (prompt < 1 || prompt > ctx) throw new LlmjException("--prompt-tokens " + prompt + " must be 1 to " + ctx + ", the context length");
            int fresh = newTokens != null ? newTokens : Math.max(1, Math.min(128, ctx - prompt));
            if (fresh < 1 || prompt + fresh - 1 > ctx) { // the last new token is sampled, never fed back
                throw new LlmjException("--new-tokens " + fresh + " must be 1 to " + (ctx - prompt + 1) + " after a " + prompt + "-token prompt (context length " + ctx + ")");
            }
            Rng r = new Rng(7);
            List<int[]> prompts = new java.util.ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] ids = new int[prompt];
                for (int i = 0; i < prompt; i++) ids[i] = r.nextInt(m.config.vocabSize());
                prompts.add(ids);
            }
            Generator gen = new Generator(m, null); // ids only: no <eos>, so every run writes all its tokens
            GenerationConfig cfg = new GenerationConfig(fresh, 1f, 0, 1f, 0f, 1f, 1, List.of(), false);
            // warm-up: three runs and three seconds at least, because the JIT reaches its final code for the
            // prefill kernel only in the third or fourth run of gpt2-124m (prefill at 108, 109, 107, then 205
            // tokens/s), and a small model's runs are too short to compile anything (the `small` shape after
            // three runs: prefill 1,900 tokens/s, after three seconds 27,000)
            long warmStart = System.nanoTime();
            for (int w = 0; w < 3 || System.nanoTime() - warmStart < 3_000_000_000L; w++) gen.generateIds(prompts, cfg.withSeed(-1 - w), null);
            Parallel.resetStats(); // -Dllmj.parallelStats=true: the measured runs' regions only (and the rooflines')
            // the roofline: the same weights read bare (as they lie: the runs packed the matrices), every thread one
            // stream, nothing else to do; measured right after each run, because this machine's bandwidth drifts by
            // half within minutes, and each run is set against its own
            List<float[]> weights = m.params().stream().map(p -> p.isPacked() ? p.packed() : p.value()).toList();
            double[] prefill = new double[runs], decode = new double[runs], roof = new double[runs], usual = new double[runs];
            for (int i = 0; i < runs; i++) {
                Generator.Timing t = gen.generateIds(prompts, cfg.withSeed(i), null).get(0).timing();
                prefill[i] = t.prefillTokensPerSec();
                decode[i] = t.decodeTokensPerSec();
                ReadPeak.Rate read = ReadPeak.gbPerSec(weights);
                roof[i] = read.best();
                usual[i] = read.median();
            }
            // garbage per decoded token: what a run of `fresh` tokens allocates beyond a run of one token (the same
            // prompts, so the same per-call setup: results, samplers), over the tokens between them, in every thread
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            GenerationConfig one = new GenerationConfig(1, 1f, 0, 1f, 0f, 1f, 1, List.of(), false);
            long a0 = mx.getTotalThreadAllocatedBytes();
            gen.generateIds(prompts, one, null);
            long a1 = mx.getTotalThreadAllocatedBytes();
            gen.generateIds(prompts, cfg.withSeed(0), null);
            long a2 = mx.getTotalThreadAllocatedBytes();
            double perToken = fresh > 1 ? Math.max(0, (a2 - a1) - (a1 - a0)) / (double) ((fresh - 1) * batch) : 0;
            long weightBytes = m.parameterCount() * Float.BYTES;
            // a decode step reads every matrix once, but only one row of each embedding table (a tied head reads it whole, once)
            long readBytes = (m.parameterCount() - (m.positions == null ? 0 : m.positions.weight.size())
                    - (m.config.tiedHead() ? 0 : m.tokens.weight.size())) * (long) Float.BYTES;
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("model", model != null ? Main.shown(model) : shape);
            res.put("parameters", m.parameterCount());
            res.put("threads", Parallel.threads());
            res.put("batch", batch);
            res.put("prompt_tokens", prompt);
            res.put("new_tokens", fresh);
            res.put("prefill_tokens_per_sec", round(median(prefill)));
            // one new token comes from the prompt's logits: no decode pass ran, so there is no decode figure (null)
            boolean decoded = fresh > 1;
            res.put("decode_tokens_per_sec", decoded ? round(median(decode)) : null);
            // each decode step reads every weight once: bytes/s against the machine's memory bandwidth
            double decodeGbPerSec = median(decode) / batch * readBytes / 1e9; // one pass over the weights per step, for the whole batch
            res.put("decode_weight_gb_per_sec", decoded ? round(decodeGbPerSec) : null);
            double[] fraction = new double[runs];
            for (int i = 0; i < runs; i++) fraction[i] = decode[i] / batch * readBytes / 1e9 / roof[i];
            double roofline = median(roof);
            res.put("read_roofline_gb_per_sec", round(roofline));
            res.put("read_median_gb_per_sec", round(median(usual))); // the median pass of those reads: what a pass usually gets
            res.put("decode_roofline_fraction", decoded ? Math.round(median(fraction) * 1000) / 1000.0 : null); // each run against its own
            res.put("weights_mb", Math.round(weightBytes / 1e3) / 1e3);
            res.put("kv_cache_mb", Math.round(KvCache.bytes(m.config, batch) / 1e3) / 1e3);
            res.put("allocated_bytes_per_decoded_token", decoded ? Math.round(perToken) : null);
            res.put("peak_rss_mb", round(peakRss() / 1e6));
            res.put("runs", runs);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(res));
                return 0;
            }
            out.printf("%s: %,d parameters, %d thread%s, batch %d%n", res.get("model"), m.parameterCount(), Parallel.threads(),
                    Parallel.threads() == 1 ? "" : "s", batch);
            out.printf("prefill  %,10.1f tokens/s   (%d-token prompt%s)%n", median(prefill), prompt, batch > 1 ? " × " + batch : "");
            if (decoded) {
                out.printf("decode   %,10.1f tokens/s   (%d new tokens%s; weights read at %.1f GB/s, %.0f%% of the %.1f GB/s that reading them bare reaches at best, %.1f in a median pass)%n",
                        median(decode), fresh, batch > 1 ? " × " + batch : "", (double) res.get("decode_weight_gb_per_sec"),
                        100 * median(fraction), roofline, median(usual));
            } else {
                out.println("decode          none       (the one new token comes from the prompt's logits; --new-tokens 2 or more to time decoding)");
            }
            out.printf("memory   weights %.1f MB, KV cache %.1f MB, peak RSS %.0f MB (median of %d runs)%s%n",
                    res.get("weights_mb"), res.get("kv_cache_mb"), res.get("peak_rss_mb"), runs,
                    decoded ? String.format("; %,d bytes allocated per decoded token", Math.round(perToken)) : "");
            return 0;
        }

        private static double round(double x) {
            return Math.round(x * 10) / 10.0;
        }
    }
}
