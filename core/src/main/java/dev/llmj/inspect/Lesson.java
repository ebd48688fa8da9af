package dev.llmj.inspect;

import dev.llmj.LlmjException;
import dev.llmj.io.Json;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import dev.llmj.train.AdamW;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The tutorial's example with real training: a tiny GPT learns that {@code 猫 在 垫子} is
 * followed by {@code 上}. Every sentence of a small word-level corpus ({@code X 在 Y 上}, or
 * {@code 里} for places one is inside) is one row of one batch, starting at position 0, so the
 * prompt seen at the end sits exactly where it sat in training. Along the way it records
 * P(上 | 猫 在 垫子) and its loss −log P; at the end, what the model expects next and where
 * {@code 垫子} looks.
 */
public final class Lesson {
    public static final List<String> SUBJECTS = List.of("猫", "狗", "书", "杯子", "球", "鞋子", "手机", "钥匙", "苹果", "帽子");
    /** Places one is on (上) and places one is in (里): the word after the place depends on the place. */
    public static final List<String> ON = List.of("垫子", "桌子", "床", "椅子", "沙发", "地板"), IN = List.of("盒子", "篮子");
    public static final String PROMPT = "猫 在 垫子", ANSWER = "上";

    /** P(上 | 猫 在 垫子) after {@code step} updates, its loss −log P, and the mean loss over the whole corpus. */
    public record Point(int step, double p, double loss, double trainLoss) {}

    /** One word the model may say next, and its probability. */
    public record Guess(String word, double p) {}

    /**
     * What the lesson saw. {@code attention[l][h][s]}: how much {@code 垫子} (the prompt's last
     * word) attends to word {@code s} of the prompt, in head {@code h} of layer {@code l}.
     */
    public record Result(List<String> sentences, int vocabSize, ModelConfig config, long parameters, float lr, long seed,
                         List<Point> curve, List<Guess> afterZai, List<Guess> afterPlace, List<String> promptWords, double[][][] attention) {}

    private Lesson() {}

    /** Every subject in every place: "猫 在 垫子 上", …, "帽子 在 篮子 里". */
    public static List<String> sentences() {
        List<String> s = new ArrayList<>();
        for (String x : SUBJECTS) {
            for (String y : ON) s.add(x + " 在 " + y + " 上");
            for (String y : IN) s.add(x + " 在 " + y + " 里");
        }
        return s;
    }

    /** Trains for {@code steps} full-batch AdamW updates from {@code seed}; the same seed gives the same numbers. */
    public static Result run(int steps, long seed) {
        if (steps < 1) throw new LlmjException("--steps must be at least 1");
        List<String> sentences = sentences();
        Tokenizer tok = WordTokenizer.build(String.join(" ", sentences), List.of(SpecialTokens.Role.EOS), 0);
        int eos = tok.specials().id(SpecialTokens.Role.EOS);

        // input_ids = the sentence, labels = the sentence shifted by one, ending in <eos>:
        //   猫 在 垫子 上  →  在 垫子 上 <eos>
        int B = sentences.size(), T = 4; // every sentence is 4 words, so the batch needs no padding
        int[] inputs = new int[B * T], labels = new int[B * T];
        for (int b = 0; b < B; b++) {
            int[] ids = tok.encode(sentences.get(b));
            for (int t = 0; t < T; t++) {
                inputs[b * T + t] = ids[t];
                labels[b * T + t] = t + 1 < T ? ids[t + 1] : eos;
            }
        }

        ModelConfig config = ModelConfig.gpt2(tok.vocabSize(), 8, 32, 2, 2, 0f); // vocab V, context 8, d = 32, 2 layers, 2 heads
        DecoderLM model = new DecoderLM(config, seed);
        float lr = 3e-3f;
        AdamW adam = new AdamW(model.params(), 0.9f, 0.99f, 1e-8f, 0f); // no weight decay: nothing here to regularise
        int[] prompt = tok.encode(PROMPT);
        int answer = tok.tokenToId(ANSWER);

        List<Point> curve = new ArrayList<>();
        for (int step = 0; step <= steps; step++) { // step = updates made so far
            if (step > 0) { // one update from all sentences at once: forward, loss, backward, AdamW
                model.zeroGrad();
                model.forward(inputs, B, T, true);
                model.loss(labels);
                model.backward();
                adam.step(lr);
            }
            if (isShown(step, steps)) {
                model.forward(inputs, B, T, false);
                double corpusLoss = model.loss(labels);
                double p = nextWord(model, prompt)[answer]; // the prompt alone, as at inference
                curve.add(new Point(step, p, -Math.log(p), corpusLoss));
            }
        }

        List<Guess> afterZai = top(tok, nextWord(model, tok.encode("猫 在")), 4);
        List<Guess> afterPlace = top(tok, nextWord(model, prompt), 3); // the last forward: its attention is read below
        int P = prompt.length, last = P - 1;
        double[][][] attention = new double[config.nLayers()][config.nHeads()][P];
        for (int l = 0; l < config.nLayers(); l++) {
            float[] w = model.attentionWeights(l); // [B = 1, H, T = P, T = P]
            for (int h = 0; h < config.nHeads(); h++) {
                for (int s = 0; s < P; s++) attention[l][h][s] = w[(h * P + last) * P + s];
            }
        }
        List<String> words = new ArrayList<>();
        for (int id : prompt) words.add(tok.idToToken(id));
        return new Result(sentences, tok.vocabSize(), config, model.parameterCount(), lr, seed, curve, afterZai, afterPlace, words, attention);
    }

    /** Steps 0, 1, 2, 5, 10, 20, 50, … (a learning curve is best read on a log scale), and the last. */
    static boolean isShown(int step, int steps) {
        if (step == 0 || step == steps) return true;
        for (long p = 1; p <= step; p *= 10) {
            if (step == p || step == 2 * p || step == 5 * p) return true;
        }
        return false;
    }

    /** The model's distribution over the word after {@code ids}: softmax of the last position's logits. */
    static double[] nextWord(DecoderLM model, int[] ids) {
        int V = model.config.vocabSize(), o = (ids.length - 1) * V;
        float[] logits = model.forward(ids, 1, ids.length, false); // [T, V]
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
        double[] p = new double[V];
        for (int v = 0; v < V; v++) sum += p[v] = Math.exp(logits[o + v] - max);
        for (int v = 0; v < V; v++) p[v] /= sum;
        return p;
    }

    private static List<Guess> top(Tokenizer tok, double[] p, int k) {
        List<Guess> all = new ArrayList<>();
        for (int v = 0; v < p.length; v++) all.add(new Guess(tok.idToToken(v), p[v]));
        all.sort((a, b) -> Double.compare(b.p(), a.p()));
        return all.subList(0, Math.min(k, all.size()));
    }

    // ---------------------------------------------------------------- output

    /** The lesson as a learner reads it: what is trained, the probability rising, the bets, the attention. */
    public static String render(Result r) {
        StringBuilder b = new StringBuilder();
        ModelConfig c = r.config();
        int places = ON.size() + IN.size();
        b.append(String.format(Locale.ROOT, "corpus: %d sentences, %d subjects × %d places (%s … %s), %d words in the vocabulary%n",
                r.sentences().size(), SUBJECTS.size(), places, r.sentences().getFirst(), r.sentences().getLast(), r.vocabSize()));
        b.append(String.format(Locale.ROOT, "model: %s, %d layers, %d heads, d=%d — %,d parameters, seed %d%n",
                c.family(), c.nLayers(), c.nHeads(), c.dModel(), r.parameters(), r.seed()));
        b.append(String.format(Locale.ROOT, "%nBefore training every word is equally likely: P(%s) ≈ 1/%d = %.3f, loss ≈ ln %d = %.2f.%n",
                ANSWER, r.vocabSize(), 1.0 / r.vocabSize(), r.vocabSize(), Math.log(r.vocabSize())));
        b.append(String.format(Locale.ROOT, "Each step is one AdamW update (lr %.0e) from all %d sentences at once: every next word a little likelier.%n",
                r.lr(), r.sentences().size()));
        b.append(String.format(Locale.ROOT, "%n step  P(%s | %s)   −log P   corpus loss%n", ANSWER, PROMPT));
        for (Point p : r.curve()) {
            b.append(String.format(Locale.ROOT, "%5d  %18.4f%9.4f%14.4f%n", p.step(), p.p(), p.loss(), p.trainLoss())); // P(…) is 18 columns wide
        }
        b.append(String.format(Locale.ROOT, "The corpus loss stops near ln %d / 4 = %.3f, not 0: after 在 any of the %d places is right.%n",
                places, Math.log(places) / 4, places));

        b.append(String.format(Locale.ROOT, "%nWhat it says next: after 猫 在, any of the %d places (1/%d = %.3f each); after %s, %s.%n",
                places, places, 1.0 / places, PROMPT, ANSWER));
        b.append("  after 猫 在:       ").append(guesses(r.afterZai())).append(" …\n");
        b.append("  after ").append(PROMPT).append(":  ").append(guesses(r.afterPlace())).append('\n');

        List<String> w = r.promptWords();
        String last = w.getLast();
        b.append(String.format(Locale.ROOT, "%nAttention of %s over the words it may see (each row is a softmax: it sums to 1).%n", last));
        b.append(String.format(Locale.ROOT, "Here %s itself decides %s over 里, so no head must look back: this shows where heads look, not what they need.%n",
                last, ANSWER));
        b.append(" ".repeat("layer 0 head 0 ".length()));
        for (String word : w) b.append(pad(word, 8));
        b.append('\n');
        for (int l = 0; l < r.attention().length; l++) {
            for (int h = 0; h < r.attention()[l].length; h++) {
                b.append(String.format(Locale.ROOT, "layer %d head %d ", l, h));
                for (double a : r.attention()[l][h]) b.append(String.format(Locale.ROOT, "%8.3f", a));
                b.append('\n');
            }
        }
        return b.toString();
    }

    private static String guesses(List<Guess> gs) {
        StringBuilder b = new StringBuilder();
        for (Guess g : gs) b.append(String.format(Locale.ROOT, "%s %.3f  ", g.word(), g.p()));
        return b.toString().stripTrailing();
    }

    /** Right-aligns {@code s} in {@code width} columns, counting a Chinese character as two (as a terminal draws it). */
    private static String pad(String s, int width) {
        int cols = 0;
        for (int i = 0; i < s.length(); i = s.offsetByCodePoints(i, 1)) cols += Character.codePointAt(s, i) >= 0x1100 ? 2 : 1;
        return " ".repeat(Math.max(0, width - cols)) + s;
    }

    /** The same numbers for a program. */
    public static String json(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", PROMPT);
        m.put("answer", ANSWER);
        m.put("vocab_size", r.vocabSize());
        m.put("sentences", r.sentences().size());
        m.put("seed", r.seed());
        List<Object> curve = new ArrayList<>();
        for (Point p : r.curve()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("step", p.step());
            e.put("p", p.p());
            e.put("loss", p.loss());
            e.put("corpus_loss", p.trainLoss());
            curve.add(e);
        }
        m.put("curve", curve);
        Map<String, Object> next = new LinkedHashMap<>();
        next.put("猫 在", guessMap(r.afterZai()));
        next.put(PROMPT, guessMap(r.afterPlace()));
        m.put("next_word", next);
        m.put("prompt_words", r.promptWords());
        List<Object> layers = new ArrayList<>();
        for (double[][] l : r.attention()) {
            List<Object> heads = new ArrayList<>();
            for (double[] h : l) {
                List<Object> row = new ArrayList<>();
                for (double a : h) row.add(a);
                heads.add(row);
            }
            layers.add(heads);
        }
        m.put("attention", layers);
        return Json.write(m);
    }

    private static Map<String, Object> guessMap(List<Guess> gs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Guess g : gs) m.put(g.word(), g.p());
        return m;
    }
}
