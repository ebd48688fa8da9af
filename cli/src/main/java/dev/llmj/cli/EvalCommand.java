package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj eval}: mean next-token loss and perplexity of a model on a text file. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Score a model on a file: mean next-token loss (nats) and perplexity.",
                "The file is cut into consecutive windows of the context length, each predicting its own next tokens;",
                "a file shorter than the context is one window."},
        footer = {"", "Example:", "  llmj eval --model out/small --data data/tinyshakespeare.txt --json"})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A model folder.")
    Path model;
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "UTF-8 text to score.")
    Path data;
    @Option(names = "--json", description = "Print {\"loss\": …, \"perplexity\": …, \"tokens\": …}.")
    boolean json;
    @Mixin
    ThreadsOption threads;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        threads.apply();
        ModelFolder.Loaded loaded = ModelFolder.load(model);
        DecoderLM m = loaded.model();
        Tokenizer tok = loaded.tokenizer();
        int[] ids = tok.encode(Corpus.read(data));
        if (ids.length < 2) throw new LlmjException(Main.shown(data) + " has " + ids.length + " token; scoring needs at least 2");
        int ctx = m.config.contextLength(), vocab = m.config.vocabSize();
        double total = 0;
        long count = 0;
        for (int start = 0; start + 1 < ids.length; start += ctx) {
            int len = Math.min(ctx, ids.length - 1 - start); // predictions in this window
            int[] in = Arrays.copyOfRange(ids, start, start + len), labels = Arrays.copyOfRange(ids, start + 1, start + 1 + len);
            float[] logits = m.forward(in, 1, len, false);
            total += (double) CrossEntropy.forwardBackward(logits, labels, len, vocab, null, new float[len]) * len;
            count += len;
        }
        double loss = total / count;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("loss", loss);
        r.put("perplexity", Math.exp(loss));
        r.put("tokens", count);
        if (json) {
            spec.commandLine().getOut().println(Json.write(r));
        } else {
            spec.commandLine().getOut().printf("loss %.4f nats/token, perplexity %.3f, over %,d tokens of %s%n", loss, Math.exp(loss), count,
                    Main.shown(data));
        }
        return 0;
    }
}
