package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.io.Json;
import dev.llmj.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj tokenize}: show how a tokenizer cuts a text, and the input/label table of next-token prediction. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Show each token of TEXT with its id; with --labels, the input/label table a language model trains on."},
        footer = {"", "Examples:",
                "  llmj tokenize --data data/tinyshakespeare.txt --text 'To be' --labels",
                "  llmj tokenize --tokenizer out/tokenizer.json --text 'Hello, world' --json"})
final class TokenizeCommand implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    TokenizerOptions tokenizer;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to tokenize.")
        String text;

        @Option(names = "--file", paramLabel = "FILE", description = "Tokenize this UTF-8 file's text instead.")
        java.nio.file.Path file;

        String read() {
            return text != null ? text : dev.llmj.data.Corpus.readUtf8(file);
        }
    }

    @Option(names = "--labels", description = "Also print the input_ids/labels table: at each position the model sees the tokens so far and must predict the next one.")
    boolean labels;

    @Option(names = "--json", description = "Print {\"ids\": [...], \"tokens\": [...]} (with --labels also \"input_ids\" and \"labels\").")
    boolean json;

    @Option(names = "--specials", description = "Read special-token text in TEXT (such as <eos>) as that special token instead of as plain text.")
    boolean specials;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Tokenizer tok = tokenizer.load();
        String text = input.read();
        int[] ids = specials ? tok.encodeWithSpecials(text) : tok.encode(text);
        if (ids.length == 0) throw new LlmjException("the text tokenizes to nothing: give some non-empty text");
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ids", ids);
            List<Object> tokens = new ArrayList<>();
            for (int id : ids) tokens.add(tok.idToToken(id));
            m.put("tokens", tokens);
            if (labels) {
                m.put("input_ids", java.util.Arrays.copyOf(ids, ids.length - 1));
                m.put("labels", java.util.Arrays.copyOfRange(ids, 1, ids.length));
            }
            out.println(Json.write(m));
            return 0;
        }
        out.printf("tokenizer: %s (%s, %d tokens)%n", tokenizer.describe(), tok.kind(), tok.vocabSize());
        out.printf("%d characters → %d tokens%n%n", text.codePointCount(0, text.length()), ids.length);
        int idWidth = Math.max(2, String.valueOf(tok.vocabSize() - 1).length());
        out.printf("%4s  %" + idWidth + "s  %s%n", "#", "id", "token");
        for (int i = 0; i < ids.length; i++) {
            out.printf("%4d  %" + idWidth + "d  %s%n", i, ids[i], Text.quoted(tok.display(ids[i])));
        }
        if (labels) printLabels(out, tok, ids, idWidth);
        return 0;
    }

    /** The tutorial's table: at position t the input is token t, the label is token t+1. */
    private static void printLabels(PrintWriter out, Tokenizer tok, int[] ids, int idWidth) {
        out.println();
        if (ids.length < 2) {
            out.println("(one token has no next token, so there is no input/label pair)");
            return;
        }
        out.println("next-token prediction: labels are input_ids shifted by one; at position t the model sees tokens 0..t");
        int col = 4;
        List<String> shown = new ArrayList<>();
        for (int id : ids) {
            String s = Text.quoted(tok.display(id));
            shown.add(s);
            col = Math.max(col, Math.min(24, Text.width(s)));
        }
        out.printf("%4s  %s  %s  %s%n", "t", Text.padRight("input", idWidth + 1 + col), Text.padRight("label", idWidth + 1 + col),
                "the model sees → must predict");
        for (int t = 0; t + 1 < ids.length; t++) {
            int from = Math.max(0, t + 1 - 40); // the column shows at most 40 cells, so 40 tokens are plenty
            String context = (from > 0 ? "…" : "") + Tokenizer.escape(tok.decode(java.util.Arrays.copyOfRange(ids, from, t + 1)));
            out.printf("%4d  %" + idWidth + "d %s  %" + idWidth + "d %s  %s → %s%n", t,
                    ids[t], Text.padRight(shown.get(t), col), ids[t + 1], Text.padRight(shown.get(t + 1), col),
                    Text.tail(context, 40), shown.get(t + 1));
        }
    }
}
