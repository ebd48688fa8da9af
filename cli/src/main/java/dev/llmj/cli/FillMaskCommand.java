package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.io.EncoderFolder;
import dev.llmj.io.Json;
import dev.llmj.model.EncoderLM;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
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
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj fill-mask}: an encoder's top candidates, with probabilities, for each {@code <mask>} of a text. */
@Command(name = "fill-mask", mixinStandardHelpOptions = true,
        description = {"List a masked-language model's top candidates, with their probabilities, for each <mask> in a text.",
                "The text is read as in training: [CLS]/<bos> before and [SEP]/<eos> after when the tokenizer has them;",
                "special tokens are never proposed."},
        footer = {"", "Example:", "  llmj fill-mask --model out/bert-tiny --text \"猫 在 <mask> 上\""})
final class FillMaskCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "An encoder folder (llmj train --objective mlm, or a bert folder).")
    Path model;
    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "Text with one or more <mask> (the tokenizer's mask token).")
    String text;
    @Option(names = "--top-k", paramLabel = "K", defaultValue = "5", description = "Candidates per mask. Default: ${DEFAULT-VALUE}.")
    int topK;
    @Option(names = "--json", description = "Print {\"masks\": [{\"position\": …, \"candidates\": [{\"token\": …, \"id\": …, \"probability\": …}]}]}.")
    boolean json;
    @Mixin
    ThreadsOption threads;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        threads.apply();
        if (topK < 1) throw new LlmjException("--top-k must be at least 1, not " + topK);
        EncoderFolder.Loaded loaded = EncoderFolder.load(model);
        EncoderLM m = loaded.model();
        Tokenizer tok = loaded.tokenizer();
        int mask = tok.specials().id(SpecialTokens.Role.MASK);
        if (mask < 0) throw new LlmjException(Main.shown(model) + ": the tokenizer has no <mask> token, so this model cannot fill masks");
        String maskText = tok.idToToken(mask);
        int[] ids = sentence(tok, text, m.config.contextLength());
        List<Integer> at = new ArrayList<>();
        for (int t = 0; t < ids.length; t++) if (ids[t] == mask) at.add(t);
        if (at.isEmpty()) throw new LlmjException("the text has no " + maskText + ": write " + maskText + " where a token is missing");

        float[] logits = m.forward(ids, null, null, 1, ids.length, false);
        int vocab = m.config.vocabSize();
        List<Map<String, Object>> masks = new ArrayList<>();
        for (int t : at) {
            double[] p = softmax(logits, t * vocab, vocab);
            List<Map<String, Object>> cands = new ArrayList<>();
            for (int best : top(p, tok, topK)) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("token", shown(tok, best));
                c.put("id", best);
                c.put("probability", p[best]);
                cands.add(c);
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("position", t);
            e.put("candidates", cands);
            masks.add(e);
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("text", text);
            r.put("masks", masks);
            o.println(Json.write(r));
            return 0;
        }
        for (int i = 0; i < masks.size(); i++) {
            o.printf("%s %d of %d (token %d):%n", maskText, i + 1, masks.size(), masks.get(i).get("position"));
            for (Object c : (List<?>) masks.get(i).get("candidates")) {
                Map<?, ?> cm = (Map<?, ?>) c;
                o.printf("  %6.2f%%  %s%n", 100 * (Double) cm.get("probability"), cm.get("token"));
            }
        }
        return 0;
    }

    /**
     * A text as an encoder reads it: its tokens (special-token texts such as {@code <mask>} become
     * their ids) between {@code <bos>} and {@code <eos>} for whichever of the two the tokenizer has,
     * as the MLM batches put them; longer than {@code context}: a clear error.
     */
    static int[] sentence(Tokenizer tok, String text, int context) {
        int[] body = tok.encodeWithSpecials(text);
        if (body.length == 0) throw new LlmjException("the text is empty");
        int bos = tok.specials().id(SpecialTokens.Role.BOS), eos = tok.specials().id(SpecialTokens.Role.EOS);
        int n = body.length + (bos >= 0 ? 1 : 0) + (eos >= 0 ? 1 : 0);
        if (n > context) {
            throw new LlmjException("the text is " + n + " tokens" + (n > body.length ? " with its markers" : "") + ", longer than the model's context of "
                    + context);
        }
        int[] ids = new int[n];
        int at = 0;
        if (bos >= 0) ids[at++] = bos;
        System.arraycopy(body, 0, ids, at, body.length);
        if (eos >= 0) ids[n - 1] = eos;
        return ids;
    }

    /** The ids of the {@code k} most probable ordinary tokens (no specials), best first; fewer when the tokenizer has fewer. */
    static int[] top(double[] p, Tokenizer tok, int k) {
        int n = Math.min(p.length, tok.vocabSize());
        boolean[] taken = new boolean[n];
        int[] out = new int[Math.min(k, n)];
        int found = 0;
        for (; found < out.length; found++) {
            int best = -1;
            for (int v = 0; v < n; v++) if (!taken[v] && !tok.specials().isSpecial(v) && (best < 0 || p[v] > p[best])) best = v;
            if (best < 0) break;
            taken[best] = true;
            out[found] = best;
        }
        return java.util.Arrays.copyOf(out, found);
    }

    /** A candidate as printed: its text without the word-boundary spaces BPE keeps, or quoted when it is only whitespace. */
    static String shown(Tokenizer tok, int id) {
        String s = tok.display(id);
        return s.isBlank() ? "'" + s + "'" : s.strip();
    }

    /** softmax of logits[from, from + n), in double. */
    static double[] softmax(float[] logits, int from, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[from + i]);
        double[] p = new double[n];
        for (int i = 0; i < n; i++) sum += p[i] = Math.exp(logits[from + i] - max);
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }
}
