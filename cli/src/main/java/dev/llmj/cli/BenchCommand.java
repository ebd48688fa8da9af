package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.io.Json;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import picocli.CommandLine.Command;
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
        subcommands = {BenchCommand.TokenizerBench.class})
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

        private static double median(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }
}
