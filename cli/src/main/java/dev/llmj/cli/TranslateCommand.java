package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Pairs;
import dev.llmj.generate.Seq2SeqDecoder;
import dev.llmj.io.Json;
import dev.llmj.io.Seq2SeqFolder;
import dev.llmj.model.Seq2SeqLM;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj translate}: an encoder–decoder turns a source into a target, or is scored by exact match on a pairs file. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = {"Decode a source with an encoder–decoder (llmj train --objective seq2seq), greedily or by beam search;",
                "with --data, the exact-match accuracy over a file of source<TAB>target lines, and a few of the misses.",
                "Beam search scores a finished target by log P / ((5 + length) / 6)^A (GNMT's length penalty)."},
        footer = {"", "Examples:", "  llmj translate --model out/numbers --text 4071", "  llmj translate --model out/numbers --data data/number-words-test.tsv --beam 4"})
final class TranslateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "An encoder–decoder model folder.")
    Path model;
    @Option(names = "--text", paramLabel = "SRC", description = "The source to translate.")
    String text;
    @Option(names = "--data", paramLabel = "FILE", description = "Score exact match on these source<TAB>target pairs instead.")
    Path data;
    @Option(names = "--beam", paramLabel = "N", defaultValue = "1", description = "Beam width; 1 is greedy. Default: ${DEFAULT-VALUE}.")
    int beam;
    @Option(names = "--length-penalty", paramLabel = "A", defaultValue = "0", description = "α of the length penalty (0: none). Default: ${DEFAULT-VALUE}.")
    double alpha;
    @Option(names = "--max-tokens", paramLabel = "N", description = "The most target tokens, <eos> included (default: the context length).")
    Integer maxTokens;
    @Option(names = "--mistakes", paramLabel = "N", defaultValue = "5", description = "With --data: how many misses to print. Default: ${DEFAULT-VALUE}.")
    int mistakes;
    @Option(names = "--json", description = "Print a JSON object.")
    boolean json;
    @Mixin
    ThreadsOption threads;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        threads.apply();
        if ((text == null) == (data == null)) throw new LlmjException("give either --text SRC or --data FILE");
        Seq2SeqFolder.Loaded loaded = Seq2SeqFolder.load(model);
        Seq2SeqLM m = loaded.model();
        Tokenizer tok = loaded.tokenizer();
        int max = maxTokens != null ? maxTokens : m.config.contextLength();
        if (beam < 1 || beam > m.config.vocabSize()) { // each beam holds a KV cache row: wider than the vocabulary only wastes memory
            throw new LlmjException("--beam must be between 1 and the vocabulary size " + m.config.vocabSize() + ", not " + beam);
        }
        if (mistakes < 0) throw new LlmjException("--mistakes must not be negative, not " + mistakes);
        PrintWriter o = spec.commandLine().getOut();
        if (data != null) {
            double acc = evaluate(m, tok, Pairs.read(data, tok), beam, alpha, max, json ? 0 : mistakes, json ? null : o);
            if (json) o.println(Json.write(Map.of("exact_match", acc)));
            return 0;
        }
        long t0 = System.nanoTime();
        Seq2SeqDecoder.Result r = translate(m, tok, text, beam, alpha, max);
        String out = tok.decode(r.ids());
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("source", text);
            j.put("output", out);
            j.put("log_prob", r.logProb());
            j.put("score", r.score());
            j.put("finished", r.finished());
            j.put("seconds", (System.nanoTime() - t0) / 1e9);
            o.println(Json.write(j));
        } else {
            o.println(out);
        }
        return 0;
    }

    /** Encodes {@code src} (every character must be in the vocabulary) and decodes it. */
    static Seq2SeqDecoder.Result translate(Seq2SeqLM m, Tokenizer tok, String src, int beam, double alpha, int maxTokens) {
        if (src.isEmpty()) throw new LlmjException("the source is empty");
        src.codePoints().forEach(cp -> {
            if (tok.tokenToId(Character.toString(cp)) < 0) {
                throw new LlmjException("the character '" + Tokenizer.escape(Character.toString(cp)) + "' (U+" + String.format("%04X", cp)
                        + ") is not in the model's vocabulary");
            }
        });
        int[] ids = tok.encode(src);
        if (ids.length > m.config.contextLength()) {
            throw new LlmjException("the source is " + ids.length + " tokens, longer than the model's context length " + m.config.contextLength());
        }
        return Seq2SeqDecoder.translate(m, ids, tok.specials().id(SpecialTokens.Role.BOS), tok.specials().id(SpecialTokens.Role.EOS), beam, alpha, maxTokens);
    }

    /** Decodes every pair's source; prints (when {@code o} is given) the first {@code shown} outputs, up to {@code shown} further misses, and the accuracy. */
    static double evaluate(Seq2SeqLM m, Tokenizer tok, Pairs pairs, int beam, double alpha, int maxTokens, int shown, PrintWriter o) {
        int bos = tok.specials().id(SpecialTokens.Role.BOS), eos = tok.specials().id(SpecialTokens.Role.EOS);
        int right = 0, printed = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < pairs.size(); i++) {
            Pairs.Pair p = pairs.get(i);
            if (p.sourceIds().length > m.config.contextLength()) {
                throw new LlmjException(pairs.file() + " line " + p.line() + ": a source longer than the context (" + p.sourceIds().length
                        + " tokens, context length " + m.config.contextLength() + ")");
            }
            String out = tok.decode(Seq2SeqDecoder.translate(m, p.sourceIds(), bos, eos, beam, alpha, maxTokens).ids());
            boolean ok = out.equals(p.target());
            if (ok) right++;
            if (o != null && i < shown) o.printf("  %s  %s → %s%n", ok ? "ok  " : "miss", p.source(), out + (ok ? "" : "   (expected " + p.target() + ")"));
            else if (o != null && !ok && printed < shown) {
                o.printf("  miss  %s → %s   (expected %s)%n", p.source(), out, p.target());
                printed++;
            }
        }
        double acc = (double) right / pairs.size();
        if (o != null) {
            o.printf("exact match (%s): %d/%d = %.4f on %s (%.1f s)%n", beam == 1 && alpha == 0 ? "greedy" : "beam " + beam + ", α " + alpha,
                    right, pairs.size(), acc, Main.shown(Path.of(pairs.file())), (System.nanoTime() - t0) / 1e9);
        }
        return acc;
    }
}
