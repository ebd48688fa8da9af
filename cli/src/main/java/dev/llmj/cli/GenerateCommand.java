package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.generate.GenerationConfig;
import dev.llmj.generate.Generator;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj generate}: text from a model folder, streamed as it is produced, with a KV cache. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt with a trained model, streaming the text as it is written.",
                "The prompt is read in one pass (prefill); then each new token costs one pass of that token alone,",
                "reading the others' keys and values from the KV cache. Several --prompt options are generated",
                "together as one batch."},
        footer = {"", "Examples:",
                "  llmj generate --model out/tiny --prompt 'ROMEO:' --max-tokens 200 --temperature 0.8 --top-k 40",
                "  llmj generate --model out/tiny --prompt 'First' --prompt 'Second' --seed 7 --json",
                "  llmj generate --model out/tiny --interactive"})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A model folder.")
    Path model;
    @Option(names = "--prompt", paramLabel = "TEXT", description = "Text to continue; repeat for a batch. Use $'…' in bash for line breaks.")
    List<String> prompts = new ArrayList<>();
    @Option(names = "--interactive", description = "Read one prompt per line from standard input until end of input or /quit.")
    boolean interactive;
    @Option(names = "--max-tokens", paramLabel = "N", description = "Most new tokens per prompt. Default: 200, or as many as fit in the context.")
    Integer maxTokens;
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "0 is greedy; below 1 sharper, above 1 flatter. Default: ${DEFAULT-VALUE}.")
    float temperature;
    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K likeliest tokens (0: all). Default: ${DEFAULT-VALUE}.")
    int topK;
    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Keep the fewest tokens whose probability reaches P, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    float topP;
    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P × the best one's probability, in [0, 1). Default: ${DEFAULT-VALUE}.")
    float minP;
    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Discourage tokens already seen (1: off; 1.1–1.3 is typical). Default: ${DEFAULT-VALUE}.")
    float repetitionPenalty;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "Sampling seed; prompt i of a batch uses S + i. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--stop", paramLabel = "STR", description = "Stop when the text contains STR (not printed); repeatable.")
    List<String> stop = new ArrayList<>();
    @Option(names = "--sliding-window", description = {"When prompt plus output would pass the context length, keep the most recent 3/4 of the",
            "context and read it again, instead of stopping with an error."})
    boolean slidingWindow;
    @Option(names = "--json", description = "Print one JSON object per prompt: text, tokens, stop reason, speeds.")
    boolean json;
    @Option(names = "--quiet", description = "Do not print the speed line on standard error.")
    boolean quiet;
    @Mixin
    ThreadsOption threads;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        if (prompts.isEmpty() == !interactive) throw new LlmjException("give --prompt TEXT (one or more) or --interactive");
        GenerationConfig cfg = new GenerationConfig(maxTokens == null ? 200 : maxTokens, temperature, topK, topP, minP, repetitionPenalty, seed, stop,
                slidingWindow).validate();
        ModelFolder.Loaded loaded = ModelFolder.load(model);
        Generator gen = new Generator(loaded.model(), loaded.tokenizer());
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (!interactive) {
            run(gen, prompts, cfg, out, err);
            return 0;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (int turn = 0; ; ) {
            err.print("> ");
            err.flush();
            String line = in.readLine();
            if (line == null || line.strip().equals("/quit")) break;
            if (line.isBlank()) continue;
            try {
                run(gen, List.of(line), cfg.withSeed(seed + turn++), out, err);
            } catch (LlmjException e) { // a bad prompt ends that turn, not the session
                err.println("llmj: " + e.getMessage());
            }
        }
        return 0;
    }

    private void run(Generator gen, List<String> ps, GenerationConfig cfg, PrintWriter out, PrintWriter err) {
        if (maxTokens == null && !slidingWindow) { // the default budget shrinks to what the context holds
            int longest = 0;
            for (String p : ps) longest = Math.max(longest, gen.tokenizer().encode(p).length);
            cfg = cfg.withMaxTokens(Math.max(1, Math.min(cfg.maxTokens(), gen.model().config.contextLength() - longest + 1)));
        }
        boolean stream = !json && ps.size() == 1;
        boolean[] started = {false};
        List<Generator.Result> rs = gen.generate(ps, cfg, stream ? (seq, text) -> {
            if (!started[0]) out.print(ps.get(0)); // the prompt, once generation has surely begun
            started[0] = true;
            out.print(text);
            out.flush();
        } : null);
        if (stream) out.println((started[0] ? "" : ps.get(0)));
        for (int i = 0; i < rs.size(); i++) {
            Generator.Result r = rs.get(i);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("prompt", ps.get(i));
                m.put("text", r.text());
                m.put("prompt_tokens", r.promptTokens());
                m.put("tokens", r.tokens().length);
                m.put("stop", r.stop().name().toLowerCase(java.util.Locale.ROOT));
                m.put("prefill_tokens_per_sec", round(r.timing().prefillTokensPerSec()));
                m.put("decode_tokens_per_sec", round(r.timing().decodeTokensPerSec()));
                out.println(Json.write(m));
            } else if (!stream) {
                out.println("── " + (i + 1) + " ──");
                out.println(ps.get(i) + r.text());
            }
        }
        if (!quiet && !json) {
            Generator.Timing t = rs.get(0).timing();
            err.printf("prefill %d tokens at %,.0f tokens/s; decode %d tokens at %,.1f tokens/s (stop: %s)%n", t.prefillTokens(),
                    t.prefillTokensPerSec(), t.decodeTokens(), t.decodeTokensPerSec(), stops(rs));
        }
        out.flush();
    }

    private static String stops(List<Generator.Result> rs) {
        List<String> s = new ArrayList<>();
        for (Generator.Result r : rs) s.add(r.stop().name().toLowerCase(java.util.Locale.ROOT));
        return String.join(", ", s);
    }

    private static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }
}
