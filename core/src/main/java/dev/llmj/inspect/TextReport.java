package dev.llmj.inspect;

import dev.llmj.model.ModelConfig;

import java.util.Locale;

/** Terminal tables for an {@link Explanation} and a {@link Trace}. */
public final class TextReport {
    private TextReport() {}

    // ---------------------------------------------------------------- explanation

    /** Tokens and ids, the input/label table with the model's predictions, then every attention map kept. */
    public static String explanation(Explanation e) {
        StringBuilder b = new StringBuilder();
        b.append(tokens(e)).append('\n').append(predictions(e));
        if (!e.attention().isEmpty()) b.append('\n').append(attention(e));
        return b.toString();
    }

    /** "N tokens", the tokens joined by │ and their ids. */
    public static String tokens(Explanation e) {
        int n = e.ids().length;
        StringBuilder b = new StringBuilder();
        b.append(n).append(n == 1 ? " token" : " tokens").append(" (the model reads up to ").append(e.config().contextLength()).append(")\n");
        b.append("tokens: ").append(String.join("│", e.tokens())).append('\n');
        b.append("ids:   ");
        for (int id : e.ids()) b.append(' ').append(id);
        return b.append('\n').toString();
    }

    /** One row per position: input, label, the label's probability and loss, and the k likeliest next tokens. */
    public static String predictions(Explanation e) {
        int idWidth = Math.max(2, String.valueOf(e.config().vocabSize() - 1).length());
        int col = 4;
        for (String t : e.tokens()) col = Math.max(col, Math.min(12, Cells.width(t)));
        int k = e.predictions().getFirst().top().size();
        StringBuilder b = new StringBuilder();
        b.append("next-token prediction: at position t the model has read tokens 0..t; the label is token t+1\n");
        b.append(String.format(Locale.ROOT, "%4s  %s  %s  %8s  %7s  %s%n", "t", Cells.padRight("input", idWidth + 1 + col),
                Cells.padRight("label", idWidth + 1 + col), "p(label)", "loss", "top " + k + " next tokens"));
        for (Explanation.Prediction p : e.predictions()) {
            StringBuilder top = new StringBuilder();
            for (Explanation.Candidate c : p.top()) {
                if (!top.isEmpty()) top.append("  ");
                top.append(c.token()).append(' ').append(String.format(Locale.ROOT, "%.3f", c.p()));
            }
            String label = p.hasLabel() ? String.format("%" + idWidth + "d %s", p.label(), Cells.padRight(Cells.cut(e.tokens().get(p.t() + 1), col), col))
                    : Cells.padRight("—", idWidth + 1 + col);
            b.append(String.format(Locale.ROOT, "%4d  %" + idWidth + "d %s  %s  %8s  %7s  %s%n", p.t(), p.input(),
                    Cells.padRight(Cells.cut(e.tokens().get(p.t()), col), col), label,
                    p.hasLabel() ? String.format(Locale.ROOT, "%.4f", p.pLabel()) : "—",
                    p.hasLabel() ? String.format(Locale.ROOT, "%.4f", p.loss()) : "—", top));
        }
        if (e.predictionCount() == 0) {
            b.append("one token has no next token: there is nothing to score\n");
        } else {
            b.append(String.format(Locale.ROOT, "mean loss %.4f nats over %d predictions, perplexity %.3f (what llmj eval reports for this text)%n",
                    e.meanLoss(), e.predictionCount(), Math.exp(e.meanLoss())));
        }
        return b.toString();
    }

    /** Each kept head's T×T weights: rows are query positions, columns key positions. */
    public static String attention(Explanation e) {
        StringBuilder b = new StringBuilder();
        b.append("attention weights: row t = the query at position t, column s = the key it reads;\n");
        b.append("each row sums to 1 over s ≤ t, and the future (s > t) is masked to exactly 0\n");
        int col = 4;
        for (String t : e.tokens()) col = Math.max(col, Math.min(8, Cells.width(t)));
        for (Explanation.AttentionMap m : e.attention()) {
            b.append(String.format("%nlayer %d, head %d%n", m.layer(), m.head()));
            b.append(" ".repeat(5 + col));
            for (String t : e.tokens()) b.append(' ').append(Cells.padLeft(Cells.cut(t, 5), 5));
            b.append('\n');
            for (int t = 0; t < m.weights().length; t++) {
                b.append(String.format("%4d ", t)).append(Cells.padRight(Cells.cut(e.tokens().get(t), col), col));
                for (float w : m.weights()[t]) b.append(' ').append(w == 0f ? "    0" : String.format(Locale.ROOT, "%.3f", w));
                b.append('\n');
            }
        }
        return b.toString();
    }

    // ---------------------------------------------------------------- trace

    /**
     * Every stage of {@code trace}'s layer with its shape, and the first {@code dims} entries of each
     * vector at the traced position; {@code onlyHead} (−1: all) limits the per-head parts.
     */
    public static String trace(Trace tr, int onlyHead, int dims) {
        ModelConfig c = tr.config;
        int time = tr.ids.length, d = c.dModel(), nh = c.nHeads(), nkv = c.nKvHeads(), hd = c.headDim(), t = tr.position;
        String tok = tr.tokens.get(t), bt = "1×" + time, norm = c.norm(), act = c.activation().name().toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder();
        b.append(String.format("trace: position %d ('%s', id %d) through layer %d of %d%n", t, tok, tr.ids[t], tr.layer, c.nLayers()));
        b.append(String.format("shapes: B=1 text, T=%d tokens, d=%d, %d heads of hd=%d%s, MLP %d wide, V=%d%n", time, d, nh, hd,
                nkv == nh ? "" : " sharing " + nkv + " k/v heads", tr.mlpHidden.length, c.vocabSize()));
        b.append(String.format("vectors: the first %d entries, at position %d only%n%n", dims, t));

        if (tr.layer == 0) {
            String pos = switch (c.position()) {
                case LEARNED -> " + pos_emb[0..T)";
                case SINUSOIDAL -> " + sinusoid[0..T)";
                case ROPE -> "   (positions enter later, as RoPE on q and k)";
            };
            stage(b, "embedding", "H = tok_emb[ids]" + pos, "[" + bt + "×" + d + "]");
            vector(b, "tok_emb['" + tok + "']", tr.tokenEmbedding, dims);
            if (tr.positionEmbedding != null) vector(b, (c.position() == ModelConfig.Position.LEARNED ? "pos_emb[" : "sinusoid[") + t + "]", tr.positionEmbedding, dims);
        } else {
            stage(b, "input", "H = the output of layer " + (tr.layer - 1), "[" + bt + "×" + d + "]");
        }
        vector(b, "H[" + t + "]", tr.input, dims);

        stage(b, "norm1", "X = " + norm + "(H)", "[" + bt + "×" + d + "]");
        vector(b, "X[" + t + "]", tr.norm1, dims);

        String bias = c.bias() ? " + b" : "";
        stage(b, "q, k, v", "q = X·Wqᵀ" + bias + ", k = X·Wkᵀ" + bias + ", v = X·Wvᵀ" + bias + ", split into heads",
                "q [1×" + nh + "×" + time + "×" + hd + "], k, v [1×" + nkv + "×" + time + "×" + hd + "]");
        if (c.position() == ModelConfig.Position.ROPE) b.append("             q and k rotated by RoPE: pairs of entries turned by angles that grow with the position\n");
        for (int h = 0; h < nh; h++) {
            if (onlyHead >= 0 && h != onlyHead) continue;
            int kh = h / (nh / nkv);
            vector(b, "head " + h + " q[" + t + "]", tr.q[h], dims);
            vector(b, "       k[" + t + "]" + (nkv == nh ? "" : " (kv " + kh + ")"), tr.k[kh], dims);
            vector(b, "       v[" + t + "]", tr.v[kh], dims);
        }

        String tt = "[" + time + "×" + time + "]";
        stage(b, "scores", "S = q·kᵀ / √" + hd, "[1×" + nh + "×" + time + "×" + time + "]");
        stage(b, "mask", "S[t, s] = −∞ where s > t: a query never sees a later token", tt);
        if (time <= 16) { // small enough to draw: 0 keeps a score, −∞ removes it
            for (int r = 0; r < time; r++) {
                b.append("  ");
                for (int s = 0; s < time; s++) b.append(s <= r ? "  0" : " −∞");
                b.append(r == t ? "   ← row " + r + ", followed below\n" : "\n");
            }
        }
        stage(b, "softmax", "P = softmax(S) over s: rows sum to 1, masked entries become exactly 0", "[1×" + nh + "×" + time + "×" + time + "]");
        b.append(String.format("  row t=%d ('%s'), every key s:%n", t, tok));
        b.append(String.format("  %4s  %s", "s", Cells.padRight("key", 8)));
        for (int h = 0; h < nh; h++) if (onlyHead < 0 || h == onlyHead) b.append(String.format("  %9s %7s", "head " + h + " S", "P"));
        b.append('\n');
        for (int s = 0; s < time; s++) {
            b.append(String.format("  %4d  %s", s, Cells.padRight(Cells.cut(tr.tokens.get(s), 8), 8)));
            for (int h = 0; h < nh; h++) {
                if (onlyHead >= 0 && h != onlyHead) continue;
                float sc = tr.scores[h][s], w = tr.weights[h][s];
                b.append(String.format(Locale.ROOT, "  %9s %7s", sc == Float.NEGATIVE_INFINITY ? "−∞" : String.format(Locale.ROOT, "%+.4f", sc),
                        w == 0f ? "0" : String.format(Locale.ROOT, "%.4f", w)));
            }
            b.append('\n');
        }

        stage(b, "output", "O = P·v, the heads joined side by side", "[1×" + nh + "×" + time + "×" + hd + "] → [" + bt + "×" + nh * hd + "]");
        for (int h = 0; h < nh; h++) if (onlyHead < 0 || h == onlyHead) vector(b, "head " + h + " O[" + t + "]", tr.headOut[h], dims);
        stage(b, "projection", "A = O·Woᵀ" + bias, "[" + bt + "×" + d + "]");
        vector(b, "A[" + t + "]", tr.attnOut, dims);
        stage(b, "residual", "H1 = H + A", "[" + bt + "×" + d + "]");
        vector(b, "H1[" + t + "]", tr.residual1, dims);

        boolean glu = c.activation() == dev.llmj.nn.Activation.SWIGLU;
        int hidden = tr.mlpHidden.length;
        stage(b, "norm2 + MLP", glu ? "M = down(silu(gate(X2)) · up(X2)), X2 = " + norm + "(H1)" : "M = proj(" + act + "(fc(X2))), X2 = " + norm + "(H1)",
                "[" + bt + "×" + d + "] → [" + bt + "×" + hidden + "] → [" + bt + "×" + d + "]");
        vector(b, "X2[" + t + "]", tr.norm2, dims);
        vector(b, (glu ? "silu(gate)·up[" : act + "(fc)[") + t + "]", tr.mlpHidden, dims);
        vector(b, "M[" + t + "]", tr.mlpOut, dims);
        stage(b, "residual", "H2 = H1 + M: the layer's output", "[" + bt + "×" + d + "]");
        vector(b, "H2[" + t + "]", tr.output, dims);

        String above = tr.layer + 1 < c.nLayers()
                ? (tr.layer + 2 == c.nLayers() ? "layer " + (tr.layer + 1) : "layers " + (tr.layer + 1) + ".." + (c.nLayers() - 1)) + ", then "
                : "";
        stage(b, "logits", above + "final " + norm + ", logits = Hn·Wᵀ" + (c.tiedHead() ? " (W = tok_emb, tied)" : " (W = the LM head's own)"), "[" + bt + "×" + c.vocabSize() + "]");
        StringBuilder top = new StringBuilder();
        for (Explanation.Candidate cand : tr.top) {
            top.append(String.format(Locale.ROOT, "  %s %+.3f (p %.3f)", cand.token(), tr.logits[cand.id()], cand.p()));
        }
        b.append("  ").append(Cells.padRight("logits[" + t + "] top 5", 20)).append(top.toString().stripLeading()).append('\n');

        stage(b, "check", String.format(Locale.ROOT, "against the model's own forward: max |ΔP| %.1e over layer %d's weights, max |Δlogit| %.1e",
                tr.maxWeightDiff, tr.layer, tr.maxLogitDiff), "");
        return b.toString();
    }

    private static void stage(StringBuilder b, String name, String what, String shape) {
        String line = String.format("%-12s %s", name, what);
        b.append(shape.isEmpty() ? line : Cells.padRight(line, 76) + "  " + shape).append('\n');
    }

    private static void vector(StringBuilder b, String label, float[] v, int dims) {
        int n = Math.min(dims, v.length);
        b.append("  ").append(Cells.padRight(label, 20));
        for (int i = 0; i < n; i++) b.append(String.format(Locale.ROOT, " %+.4f", v[i]));
        if (n < v.length) b.append(String.format("  … (%d of %d)", n, v.length));
        b.append('\n');
    }
}
