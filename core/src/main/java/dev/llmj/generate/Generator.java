package dev.llmj.generate;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.KvCache;
import dev.llmj.tokenizer.ByteBpeTokenizer;
import dev.llmj.tokenizer.IntList;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text from a trained model, one token at a time, with a KV cache.
 * <pre>
 *   prefill   the prompt [T tokens] in one parallel pass → cache holds k, v of positions 0..T−1
 *   decode    repeat: sample from the last logits; run only the new token (q, k, v for it,
 *             attention over the cache) → logits for the next one
 * </pre>
 * Several prompts decode together: each step runs one token of every unfinished sequence through
 * the weights at once, in one pass over them; a product's bits do not depend on how many rows go
 * through it, so a batch gives exactly what each prompt gives alone. Not
 * thread-safe: one generation at a time per model (the buffers belong to the model's layers), and
 * not while the model trains.
 */
public final class Generator {
    /** Receives each piece of final text of sequence {@code seq} as soon as it is known. */
    @FunctionalInterface
    public interface Listener {
        void text(int seq, String text);
    }

    /** Why a sequence ended. */
    public enum Stop { EOS, STOP_STRING, LENGTH }

    /**
     * One sequence's result: its text (without prompt or stop string; null without a tokenizer), the generated ids (with
     * the stop string's tokens, without {@code <eos>}), and timings shared by the whole batch.
     */
    public record Result(String text, int[] tokens, int promptTokens, Stop stop, Timing timing) {}

    /**
     * Prefill (reading the prompts) and decode (writing tokens: sampling plus a one-token pass per
     * step, including any re-read of a sliding window) measured separately for a batch.
     */
    public record Timing(int prefillTokens, long prefillNanos, int decodeTokens, long decodeNanos) {
        public double prefillTokensPerSec() {
            return prefillNanos == 0 ? 0 : prefillTokens * 1e9 / prefillNanos;
        }

        public double decodeTokensPerSec() {
            return decodeNanos == 0 ? 0 : decodeTokens * 1e9 / decodeNanos;
        }
    }

    private final DecoderLM model;
    private final Tokenizer tok;
    private final int vocab, eos;
    private final boolean[] banned; // ids the tokenizer has no text for, or null
    private KvCache cache;

    /** {@code tokenizer} may be null for ids in, ids out (no text, no {@code <eos>}, no stop strings): benchmarks, tests. */
    public Generator(DecoderLM model, Tokenizer tokenizer) {
        this.model = model;
        this.tok = tokenizer;
        int v = model.config.vocabSize();
        this.vocab = tokenizer == null ? v : Math.min(v, tokenizer.vocabSize()); // never sample an id the tokenizer cannot decode
        this.eos = tokenizer == null ? -1 : tokenizer.specials().id(SpecialTokens.Role.EOS);
        boolean[] b = new boolean[vocab];
        boolean any = false;
        if (tokenizer instanceof ByteBpeTokenizer bpe) { // tiktoken vocabularies leave some ids unused
            for (int i = 0; i < vocab; i++) any |= b[i] = !bpe.hasToken(i);
        }
        this.banned = any ? b : null;
        model.packForInference(); // the weights laid out for decoding's products now, not in the first prompt's time
    }

    public DecoderLM model() {
        return model;
    }

    /** The tokenizer, or null. */
    public Tokenizer tokenizer() {
        return tok;
    }

    /** One prompt; {@code onText} (may be null) receives the text as it is produced. */
    public Result generate(String prompt, GenerationConfig cfg, java.util.function.Consumer<String> onText) {
        return generate(List.of(prompt), cfg, onText == null ? null : (seq, s) -> onText.accept(s)).get(0);
    }

    /** Several prompts decoded together; results in prompt order. */
    public List<Result> generate(List<String> prompts, GenerationConfig cfg, Listener listener) {
        if (tok == null) throw new IllegalStateException("a generator without a tokenizer takes ids (generateIds)");
        List<int[]> ids = new ArrayList<>();
        for (String p : prompts) {
            int[] e = tok.encode(p);
            if (e.length == 0) throw new LlmjException("the prompt " + quote(p) + " tokenizes to nothing; give some text");
            ids.add(e);
        }
        return generateIds(ids, cfg, listener);
    }

    /** Several tokenized prompts decoded together. */
    public List<Result> generateIds(List<int[]> prompts, GenerationConfig cfg, Listener listener) {
        cfg.validate();
        if (tok == null && !cfg.stop().isEmpty()) throw new IllegalStateException("stop strings need a tokenizer");
        int n = prompts.size(), ctx = model.config.contextLength(), keep = Math.max(1, ctx * 3 / 4);
        if (n == 0) return List.of();
        for (int[] p : prompts) {
            if (p.length == 0) throw new LlmjException("a prompt has no tokens");
            // the last new token is never fed back, so prompt + maxTokens − 1 positions are enough
            if (!cfg.slidingWindow() && p.length > ctx) {
                throw new LlmjException("the prompt has " + p.length + " tokens but the model reads at most " + ctx
                        + "; shorten it, or use the sliding window (--sliding-window) to keep its most recent tokens");
            }
            if (!cfg.slidingWindow() && p.length + cfg.maxTokens() - 1 > ctx) {
                throw new LlmjException("the prompt (" + p.length + (p.length == 1 ? " token" : " tokens") + ") plus " + cfg.maxTokens()
                        + " new tokens would pass the context length " + ctx + "; ask for at most " + (ctx - p.length + 1)
                        + ", or use the sliding window (--sliding-window) to keep the most recent ones");
            }
            for (int id : p) if (id < 0 || id >= model.config.vocabSize()) throw new LlmjException("token id " + id + " is outside the model's vocabulary");
        }
        if (cache == null || cache.rows != n) cache = model.newCache(n);
        int V = model.config.vocabSize();
        float[][] logits = new float[n][V];
        Sampler[] samplers = new Sampler[n];
        TextStream[] streams = new TextStream[n];
        int[][] window = new int[n][];   // the tokens the model sees (prompt + output, possibly cut by the window)
        int[] windowLen = new int[n];
        IntList[] out = new IntList[n];
        Stop[] stops = new Stop[n];
        int prefillTokens = 0, decodeTokens = 0;
        long prefillNanos = 0, decodeNanos = 0;

        for (int s = 0; s < n; s++) {
            int[] p = prompts.get(s);
            samplers[s] = new Sampler(cfg, vocab, cfg.seed() + s, banned);
            for (int id : p) if (id < vocab) samplers[s].observe(id);
            final int seq = s;
            if (tok != null) streams[s] = new TextStream(tok, p, cfg.stop(), text -> { if (listener != null) listener.text(seq, text); });
            window[s] = Arrays.copyOf(p, Math.max(ctx, p.length) + 1);
            windowLen[s] = p.length;
            out[s] = new IntList();
            int from = p.length > ctx ? p.length - keep : 0;  // a prompt past the context (sliding window): its most recent part
            if (from > 0) {
                System.arraycopy(p, from, window[s], 0, p.length - from);
                windowLen[s] = p.length - from;
            }
            long t0 = System.nanoTime();
            cache.reset(s);
            float[] l = model.forwardCached(window[s], 1, windowLen[s], new int[] {s}, cache);
            prefillNanos += System.nanoTime() - t0;
            prefillTokens += windowLen[s];
            System.arraycopy(l, 0, logits[s], 0, V);
        }

        int[] active = new int[n], next = new int[n], rows = new int[n], ids = new int[n];
        int alive = n;
        for (int s = 0; s < n; s++) active[s] = s;
        long decodeStart = System.nanoTime();
        while (alive > 0) {
            // sample one token for every live sequence; retire those that end
            int m = 0;
            for (int a = 0; a < alive; a++) {
                int s = active[a], id = samplers[s].sample(logits[s], 0);
                if (id == eos) { stops[s] = Stop.EOS; continue; }
                samplers[s].observe(id);
                out[s].add(id);
                decodeTokens++;
                if (streams[s] != null && streams[s].add(id)) { stops[s] = Stop.STOP_STRING; continue; }
                if (out[s].size() >= cfg.maxTokens()) { stops[s] = Stop.LENGTH; continue; }
                active[m] = s;
                next[m++] = id;
            }
            alive = m;
            if (alive == 0) break;
            // a full window slides: keep its most recent part and read it again (prefill), then go on
            int batched = 0;
            for (int a = 0; a < alive; a++) {
                int s = active[a];
                if (windowLen[s] == ctx) {
                    System.arraycopy(window[s], ctx - keep + 1, window[s], 0, keep - 1);
                    window[s][keep - 1] = next[a];
                    windowLen[s] = keep;
                    cache.reset(s);
                    float[] l = model.forwardCached(window[s], 1, keep, new int[] {s}, cache);
                    System.arraycopy(l, 0, logits[s], 0, V);
                } else {
                    window[s][windowLen[s]++] = next[a];
                    rows[batched] = s;
                    ids[batched++] = next[a];
                }
            }
            if (batched > 0) { // one token of each sequence, all in one pass over the weights
                float[] l = model.forwardCached(ids, batched, 1, rows, cache);
                for (int b = 0; b < batched; b++) System.arraycopy(l, b * V, logits[rows[b]], 0, V);
            }
        }
        decodeNanos = System.nanoTime() - decodeStart;
        Timing timing = new Timing(prefillTokens, prefillNanos, decodeTokens, decodeNanos);
        List<Result> results = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
            if (streams[s] != null) streams[s].finish();
            results.add(new Result(streams[s] == null ? null : streams[s].text(), out[s].toArray(), prompts.get(s).length, stops[s], timing));
        }
        return results;
    }

    private static String quote(String s) {
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
    }
}
