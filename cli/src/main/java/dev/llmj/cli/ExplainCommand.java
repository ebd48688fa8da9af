package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.inspect.Explanation;
import dev.llmj.inspect.HtmlReport;
import dev.llmj.inspect.TextReport;
import dev.llmj.inspect.Trace;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.ModelConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code llmj explain}: one text through a model, with the model's real numbers at every step. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Show one text's path through a model with its real numbers: the tokens and ids, the input/label table, "
                + "the top-k next tokens and the label's probability and loss at every position, and each layer's and head's "
                + "attention weights (rows = query positions, columns = key positions, the future masked to exactly 0).",
                "--html draws the same as a page of heatmaps; --trace instead follows one token through one layer, stage by stage."},
        footer = {"", "Examples:",
                "  llmj explain --model out/tiny --text 'To be, or not to be'",
                "  llmj explain --model out/tiny --text 'To be, or not' --layer 1 --html e.html",
                "  llmj explain --model out/tiny --text 'To be' --trace --position 3"})
final class ExplainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A model folder.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to explain; it must fit the model's context.")
        String text;

        @Option(names = "--file", paramLabel = "FILE", description = "Explain this UTF-8 file's text instead.")
        Path file;

        String read() {
            return text != null ? text : dev.llmj.data.Corpus.readUtf8(file);
        }
    }

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "5", description = "Next tokens shown per position (default: ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--layer", paramLabel = "L", description = "Only this layer's attention maps (default: all); the layer --trace follows (default: 0).")
    Integer layer;
    @Option(names = "--head", paramLabel = "H", description = "Only this head's attention maps and trace columns (default: all).")
    Integer head;
    @Option(names = "--html", paramLabel = "FILE", description = "Also write a self-contained page with a heatmap per layer and head (hover a cell for its weight).")
    Path html;
    @Option(names = "--json", description = "Print the explanation as JSON instead of tables.")
    boolean json;
    @Option(names = "--trace", description = "Instead of the tables, follow one token through one layer: every stage's shape and the token's values.")
    boolean trace;
    @Option(names = "--position", paramLabel = "P", description = "The position --trace follows (default: the last).")
    Integer position;
    @Option(names = "--dims", paramLabel = "N", defaultValue = "8", description = "Entries of each vector --trace shows (default: ${DEFAULT-VALUE}).")
    int dims;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (topK < 1) throw new LlmjException("--top-k must be at least 1");
        if (dims < 1) throw new LlmjException("--dims must be at least 1");
        if (position != null && !trace) throw new LlmjException("--position chooses the token --trace follows; add --trace");
        if (trace && (json || html != null)) throw new LlmjException("--trace prints to the terminal only; leave out --json and --html");
        ModelFolder.Loaded loaded = ModelFolder.load(model);
        ModelConfig c = loaded.model().config;
        if (layer != null && (layer < 0 || layer >= c.nLayers())) {
            throw new LlmjException("--layer " + layer + " does not exist: the model has layers 0.." + (c.nLayers() - 1));
        }
        if (head != null && (head < 0 || head >= c.nHeads())) {
            throw new LlmjException("--head " + head + " does not exist: the model has heads 0.." + (c.nHeads() - 1));
        }
        String text = input.read();
        PrintWriter out = spec.commandLine().getOut();
        if (trace) {
            int[] ids = loaded.tokenizer().encode(text);
            if (ids.length == 0) throw new LlmjException("the text tokenizes to nothing: give some non-empty text");
            int p = position == null ? ids.length - 1 : position;
            if (p < 0 || p >= ids.length) throw new LlmjException("--position " + p + " is outside the text: its positions are 0.." + (ids.length - 1));
            Trace tr = Trace.of(loaded.model(), loaded.tokenizer(), ids, layer == null ? 0 : layer, p);
            out.print(TextReport.trace(tr, head == null ? -1 : head, dims));
            return 0;
        }
        Explanation e = Explanation.of(loaded.model(), loaded.tokenizer(), text, topK, layer == null ? -1 : layer, head == null ? -1 : head);
        if (html != null) HtmlReport.write(e, html);     // before any output: a bad path fails the run cleanly
        if (json) {
            out.println(Json.write(e.toJson()));
        } else {
            out.printf("model: %s (%s, %d layers, %d heads, d=%d, vocabulary %d, %s tokenizer)%n", Main.shown(model), c.family(), c.nLayers(), c.nHeads(),
                    c.dModel(), c.vocabSize(), loaded.tokenizer().kind());
            out.print(TextReport.explanation(e));
            if (html != null) out.printf("%nwrote %s%n", Main.shown(html));
        }
        return 0;
    }
}
