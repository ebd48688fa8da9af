package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.io.EncoderFolder;
import dev.llmj.io.Json;
import dev.llmj.model.EncoderLM;
import dev.llmj.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj embed}: an encoder's sentence vector for a text, or the cosine between two texts' vectors. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Print an encoder's sentence vector for a text, or the cosine similarity of two texts.",
                "The vector is the last layer's output pooled over the text's tokens ([CLS]/<bos> and [SEP]/<eos> included",
                "when the tokenizer has them): their mean (default), or the first token's vector (--pooling first)."},
        footer = {"", "Examples:", "  llmj embed --model out/bert-tiny --text \"猫 在 垫子 上\"",
                "  llmj embed --model out/bert-tiny --similarity \"猫 在 垫子 上\" \"狗 在 门 外\""})
final class EmbedCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "An encoder folder (llmj train --objective mlm, or a bert folder).")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to embed.")
        String text;
        @Option(names = "--similarity", arity = "2", paramLabel = "TEXT", description = "Two texts: print the cosine of their vectors.")
        List<String> pair;
    }

    @Option(names = "--pooling", paramLabel = "KIND", defaultValue = "mean", description = "mean (over the tokens) or first (the first token's). Default: ${DEFAULT-VALUE}.")
    String pooling;
    @Option(names = "--json", description = "Print {\"pooling\": …, \"tokens\": …, \"embedding\": […]} or {\"cosine\": …}.")
    boolean json;
    @Mixin
    ThreadsOption threads;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        threads.apply();
        EncoderLM.Pooling pool = switch (pooling.toLowerCase(Locale.ROOT)) {
            case "mean" -> EncoderLM.Pooling.MEAN;
            case "first", "cls" -> EncoderLM.Pooling.FIRST;
            default -> throw new LlmjException("unknown --pooling '" + pooling + "': use mean or first");
        };
        EncoderFolder.Loaded loaded = EncoderFolder.load(model);
        EncoderLM m = loaded.model();
        Tokenizer tok = loaded.tokenizer();
        PrintWriter o = spec.commandLine().getOut();
        if (input.pair != null) {
            if (input.pair.size() != 2) throw new LlmjException("--similarity takes exactly two texts, once");
            float[] a = m.embed(FillMaskCommand.sentence(tok, input.pair.get(0), m.config.contextLength()), pool);
            float[] b = m.embed(FillMaskCommand.sentence(tok, input.pair.get(1), m.config.contextLength()), pool);
            double cos = EncoderLM.cosine(a, b);
            if (json) o.println(Json.write(Map.of("cosine", cos)));
            else o.printf("cosine %.4f (%s pooling)%n", cos, pool.name().toLowerCase(Locale.ROOT));
            return 0;
        }
        int[] ids = FillMaskCommand.sentence(tok, input.text, m.config.contextLength());
        float[] v = m.embed(ids, pool);
        if (json) {
            List<Double> vals = new ArrayList<>(v.length);
            for (float f : v) vals.add(Double.parseDouble(Float.toString(f)));
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("pooling", pool.name().toLowerCase(Locale.ROOT));
            r.put("tokens", ids.length);
            r.put("embedding", vals);
            o.println(Json.write(r));
            return 0;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < v.length; i++) s.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.5f", v[i]));
        o.printf("%d dimensions, %s pooling over %d tokens:%n%s%n", v.length, pool.name().toLowerCase(Locale.ROOT), ids.length, s);
        return 0;
    }
}
