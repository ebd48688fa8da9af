package dev.llmj.inspect;

import dev.llmj.LlmjException;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One text through a model, with the model's real numbers from one forward pass: the tokens, the
 * input/label pairs, what the model predicts at every position, and every head's attention weights.
 * {@link TextReport} prints it; {@link HtmlReport} draws it.
 *
 * @param ids         the text's token ids, [T]
 * @param tokens      each token as {@link TokenText#visible} shows it
 * @param predictions one per position t: the model has read tokens 0..t and predicts token t+1
 * @param attention   the heads asked for, layer by layer
 */
public record Explanation(ModelConfig config, String text, int[] ids, List<String> tokens, List<Prediction> predictions,
                          List<AttentionMap> attention) {

    /** A candidate next token and its probability. */
    public record Candidate(int id, String token, float p) {}

    /**
     * Position t: the input is token t, the label token t+1 ({@code label} is −1 at the last
     * position, which has none). {@code pLabel} is the model's probability of the label and
     * {@code loss} = −ln pLabel, both NaN without a label; {@code top} the k likeliest next tokens.
     */
    public record Prediction(int t, int input, int label, float pLabel, float loss, List<Candidate> top) {
        public boolean hasLabel() {
            return label >= 0;
        }
    }

    /** One head's attention weights, weights[t][s] = how much query position t reads key position s; exactly 0 for s > t. */
    public record AttentionMap(int layer, int head, float[][] weights) {}

    /** Every layer and head, the {@code topK} likeliest next tokens at each position. */
    public static Explanation of(DecoderLM model, Tokenizer tok, String text, int topK) {
        return of(model, tok, text, topK, -1, -1);
    }

    /**
     * As {@link #of(DecoderLM, Tokenizer, String, int)}, keeping only layer {@code onlyLayer} and
     * head {@code onlyHead} of the attention maps (−1: all), which matters for big models: a map is
     * T² floats per head.
     */
    public static Explanation of(DecoderLM model, Tokenizer tok, String text, int topK, int onlyLayer, int onlyHead) {
        ModelConfig c = model.config;
        if (topK < 1) throw new IllegalArgumentException("topK must be at least 1, not " + topK);
        if (onlyLayer < -1 || onlyLayer >= c.nLayers()) throw new IllegalArgumentException("no layer " + onlyLayer);
        if (onlyHead < -1 || onlyHead >= c.nHeads()) throw new IllegalArgumentException("no head " + onlyHead);
        int[] ids = tok.encode(text);
        if (ids.length == 0) throw new LlmjException("the text tokenizes to nothing: give some non-empty text");
        if (ids.length > c.contextLength()) {
            throw new LlmjException("the text is " + ids.length + " tokens but the model reads at most " + c.contextLength()
                    + " (its context length); shorten it");
        }
        int time = ids.length, vocab = c.vocabSize();
        float[] logits = model.forward(ids, 1, time, false); // [T, V]: the same call llmj eval makes

        // the loss exactly as eval and training compute it: labels are ids shifted by one, none at the end
        int[] labels = new int[time];
        for (int t = 0; t < time; t++) labels[t] = t + 1 < time ? ids[t + 1] : CrossEntropy.IGNORE;
        float[] rowLoss = new float[time];
        CrossEntropy.forwardBackward(logits, labels, time, vocab, null, rowLoss);

        List<String> tokens = new ArrayList<>(time);
        for (int id : ids) tokens.add(TokenText.visible(tok, id));
        List<Prediction> predictions = new ArrayList<>(time);
        int k = Math.min(topK, vocab);
        for (int t = 0; t < time; t++) {
            double[] p = softmax(logits, t * vocab, vocab);
            List<Candidate> top = new ArrayList<>(k);
            for (int id : topIds(p, k)) top.add(new Candidate(id, id < tok.vocabSize() ? TokenText.visible(tok, id) : "<" + id + ">", (float) p[id]));
            boolean has = labels[t] != CrossEntropy.IGNORE;
            predictions.add(new Prediction(t, ids[t], has ? labels[t] : -1, has ? (float) p[labels[t]] : Float.NaN,
                    has ? rowLoss[t] : Float.NaN, List.copyOf(top)));
        }

        List<AttentionMap> maps = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            if (onlyLayer >= 0 && l != onlyLayer) continue;
            float[] probs = model.attentionWeights(l); // [B=1, H, T, T]
            for (int h = 0; h < c.nHeads(); h++) {
                if (onlyHead >= 0 && h != onlyHead) continue;
                float[][] w = new float[time][];
                for (int t = 0; t < time; t++) w[t] = java.util.Arrays.copyOfRange(probs, (h * time + t) * time, (h * time + t + 1) * time);
                maps.add(new AttentionMap(l, h, w));
            }
        }
        return new Explanation(c, text, ids, List.copyOf(tokens), List.copyOf(predictions), List.copyOf(maps));
    }

    /** softmax(logits[o .. o+n)) in double. */
    static double[] softmax(float[] logits, int o, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < n; j++) max = Math.max(max, logits[o + j]);
        double[] p = new double[n];
        for (int j = 0; j < n; j++) sum += p[j] = Math.exp(logits[o + j] - max);
        for (int j = 0; j < n; j++) p[j] /= sum;
        return p;
    }

    /** The ids of the k largest entries, largest first; ties go to the smaller id, so the order is deterministic. */
    static int[] topIds(double[] p, int k) {
        int[] top = new int[k];
        int n = 0;
        for (int id = 0; id < p.length; id++) {
            if (n == k && p[id] <= p[top[k - 1]]) continue;
            int i = n < k ? n++ : k - 1;                  // the slot to fill: the next free one, else the smallest
            while (i > 0 && p[top[i - 1]] < p[id]) {      // insertion: shift the smaller ones down
                top[i] = top[i - 1];
                i--;
            }
            top[i] = id;
        }
        return top;
    }

    /** The number of positions that have a label (T − 1). */
    public int predictionCount() {
        return ids.length - 1;
    }

    /** The mean loss over the positions with a label: the model's cross-entropy on this text, what {@code llmj eval} reports for it. */
    public double meanLoss() {
        double total = 0;
        for (Prediction p : predictions) if (p.hasLabel()) total += p.loss();
        return predictionCount() == 0 ? Double.NaN : total / predictionCount();
    }

    /** The map of one layer's head, or null if it was left out. */
    public AttentionMap attention(int layer, int head) {
        for (AttentionMap m : attention) if (m.layer() == layer && m.head() == head) return m;
        return null;
    }

    /**
     * The whole explanation as JSON-ready maps and lists: tokens, ids, one entry per position
     * (input, label, p_label, loss, top) and each kept head's weights; NaN (no label) becomes null.
     */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", tokens);
        m.put("ids", ids);
        List<Object> ps = new ArrayList<>();
        for (Prediction p : predictions) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("t", p.t());
            o.put("input", p.input());
            o.put("label", p.hasLabel() ? p.label() : null);
            o.put("p_label", exact(p.pLabel()));
            o.put("loss", exact(p.loss()));
            List<Object> top = new ArrayList<>();
            for (Candidate c : p.top()) top.add(new LinkedHashMap<>(Map.of("id", c.id(), "token", c.token(), "p", exact(c.p()))));
            o.put("top", top);
            ps.add(o);
        }
        m.put("predictions", ps);
        m.put("loss", meanLoss());
        List<Object> maps = new ArrayList<>();
        for (AttentionMap a : attention) {
            List<Object> rows = new ArrayList<>();
            for (float[] row : a.weights()) {
                List<Object> r = new ArrayList<>(row.length);
                for (float w : row) r.add(exact(w));
                rows.add(r);
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("layer", a.layer());
            o.put("head", a.head());
            o.put("weights", rows);
            maps.add(o);
        }
        m.put("attention", maps);
        return m;
    }

    /** A float as the double with its shortest decimal form (0.1f as 0.1, not 0.10000000149011612). */
    private static Double exact(float f) {
        return Float.isNaN(f) ? Double.NaN : Double.parseDouble(Float.toString(f));
    }
}
