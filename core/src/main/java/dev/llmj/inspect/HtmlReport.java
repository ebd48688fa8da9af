package dev.llmj.inspect;

import dev.llmj.io.AtomicFiles;
import dev.llmj.io.Json;
import dev.llmj.model.ModelConfig;

import java.nio.file.Path;
import java.util.Locale;

/**
 * An {@link Explanation} as one self-contained web page (inline CSS and script, no external
 * URLs): the tokens, the next-token table, and a heatmap per layer and head whose cells show
 * query token, key token and weight on hover. The weights travel in the page as JSON, each row
 * up to the diagonal (the rest is the mask's exact 0), and a small script draws them on canvases.
 * Opening the page with {@code #selftest} moves the mouse over every cell and reports whether
 * each tooltip shows the right weight, in an element with id {@code selftest}.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /** Writes the page atomically: a failing write leaves no partial file and an existing one untouched. */
    public static void write(Explanation e, Path file) {
        AtomicFiles.writeString(file, render(e));
    }

    public static String render(Explanation e) {
        ModelConfig c = e.config();
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>llmj explain: ")
                .append(esc(Cells.cut(e.text().strip(), 60))).append("</title>\n<style>").append(CSS).append("</style></head>\n<body>\n");
        b.append("<h1>llmj explain</h1>\n<p class=\"meta\">").append(esc(describe(c))).append("</p>\n");

        b.append("<h2>Tokens</h2>\n<p>").append(e.ids().length).append(e.ids().length == 1 ? " token" : " tokens")
                .append(" (hover for the id):</p>\n<p class=\"tokens\">");
        for (int t = 0; t < e.ids().length; t++) {
            b.append("<span class=\"tok\" title=\"position ").append(t).append(", id ").append(e.ids()[t]).append("\">")
                    .append(esc(e.tokens().get(t))).append("</span>");
        }
        b.append("</p>\n");

        int k = e.predictions().getFirst().top().size();
        b.append("<h2>Next-token prediction</h2>\n<p>At position t the model has read tokens 0..t; the label is token t+1.</p>\n");
        b.append("<table class=\"pred\"><thead><tr><th>t</th><th>input</th><th>label</th><th>p(label)</th><th>loss</th><th>top ")
                .append(k).append(" next tokens</th></tr></thead><tbody>\n");
        for (Explanation.Prediction p : e.predictions()) {
            b.append("<tr><td>").append(p.t()).append("</td><td>").append(tokenCell(e, p.t())).append("</td><td>")
                    .append(p.hasLabel() ? tokenCell(e, p.t() + 1) : "—").append("</td><td>");
            if (p.hasLabel()) {
                b.append(String.format(Locale.ROOT, "<span class=\"bar\" style=\"width:%.1fpx\"></span>%.4f", 60 * p.pLabel(), p.pLabel()));
            } else {
                b.append("—");
            }
            b.append("</td><td>").append(p.hasLabel() ? String.format(Locale.ROOT, "%.4f", p.loss()) : "—").append("</td><td>");
            for (Explanation.Candidate cand : p.top()) {
                boolean hit = cand.id() == p.label();
                b.append("<span class=\"cand").append(hit ? " hit" : "").append("\"><code>").append(esc(cand.token())).append("</code> ")
                        .append(String.format(Locale.ROOT, "%.3f", cand.p())).append("</span>");
            }
            b.append("</td></tr>\n");
        }
        b.append("</tbody></table>\n");
        if (e.predictionCount() > 0) {
            b.append(String.format(Locale.ROOT, "<p>Mean loss <b>%.4f</b> nats over %d predictions, perplexity %.3f: what <code>llmj eval</code> reports for this text.</p>%n",
                    e.meanLoss(), e.predictionCount(), Math.exp(e.meanLoss())));
        }

        if (!e.attention().isEmpty()) {
            b.append("<h2 id=\"attention\">Attention</h2>\n<p>Row t is the query at position t, column s the key it reads; darker is more weight, and each row sums to 1. ")
                    .append("The grey upper triangle is the future, masked to exactly 0. Hover a cell to read its weight. ")
                    .append("Scale: 0 <span class=\"scale\"></span> 1.</p>\n");
            int layer = -1;
            for (int i = 0; i < e.attention().size(); i++) {
                Explanation.AttentionMap m = e.attention().get(i);
                if (m.layer() != layer) {
                    if (layer >= 0) b.append("</div></section>\n");
                    layer = m.layer();
                    b.append("<section class=\"layer\"><h3>layer ").append(layer).append("</h3><div class=\"heads\">\n");
                }
                b.append("<figure class=\"heatmap\"><figcaption>layer ").append(m.layer()).append(", head ").append(m.head())
                        .append("</figcaption><canvas data-map=\"").append(i).append("\"></canvas></figure>\n");
            }
            b.append("</div></section>\n");
        }
        b.append("<div id=\"tip\" hidden></div>\n<pre id=\"selftest\" hidden></pre>\n");
        b.append("<script>\nconst TOKENS = ").append(json(e.tokens())).append(";\nconst MAPS = ").append(maps(e)).append(";\n")
                .append(SCRIPT).append("</script>\n</body></html>\n");
        return b.toString();
    }

    private static String describe(ModelConfig c) {
        return String.format(Locale.ROOT, "%s model: %d layers, %d heads, d=%d, context %d, vocabulary %d", c.family(), c.nLayers(), c.nHeads(),
                c.dModel(), c.contextLength(), c.vocabSize());
    }

    private static String tokenCell(Explanation e, int t) {
        return "<code>" + esc(e.tokens().get(t)) + "</code> <small>" + e.ids()[t] + "</small>";
    }

    /**
     * Each map as {layer, head, w}, w's row t holding the weights of keys 0..t (the rest is the
     * mask's 0), each float written in its shortest exact form.
     */
    private static String maps(Explanation e) {
        StringBuilder b = new StringBuilder("[");
        for (Explanation.AttentionMap m : e.attention()) {
            if (b.length() > 1) b.append(",\n");
            b.append("{\"layer\":").append(m.layer()).append(",\"head\":").append(m.head()).append(",\"w\":[");
            for (int t = 0; t < m.weights().length; t++) {
                b.append(t == 0 ? "[" : ",[");
                for (int s = 0; s <= t; s++) b.append(s == 0 ? "" : ",").append(m.weights()[t][s]);
                b.append(']');
            }
            b.append("]}");
        }
        return b.append(']').toString();
    }

    /** JSON that is safe inside a script element: "</" cannot end it early. */
    private static String json(Object v) {
        return Json.write(v).replace("</", "<\\/");
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static final String CSS = """

            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
            h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; } h3 { font-size: 14px; margin: 12px 0 4px; }
            .meta { color: #666; margin: 0; }
            code { font: 13px ui-monospace, monospace; }
            .tokens .tok { display: inline-block; font: 13px ui-monospace, monospace; background: #eef3fb; border: 1px solid #c9d6ea;
                           border-radius: 3px; padding: 1px 4px; margin: 2px; white-space: pre; }
            table.pred { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            table.pred th, table.pred td { border-bottom: 1px solid #e4e4e4; padding: 2px 8px; text-align: left; white-space: pre; }
            table.pred small { color: #888; }
            .bar { display: inline-block; height: 9px; background: #3a78c2; margin-right: 6px; vertical-align: middle; }
            .cand { margin-right: 10px; } .cand.hit { background: #fff1b8; }
            .heads { display: flex; flex-wrap: wrap; gap: 16px; }
            figure.heatmap { margin: 0; } figcaption { font-size: 12px; color: #444; }
            canvas { display: block; cursor: crosshair; }
            .scale { display: inline-block; width: 120px; height: 10px; vertical-align: middle;
                     background: linear-gradient(to right, rgb(255,255,255), rgb(8,48,107)); border: 1px solid #ccc; }
            #tip { position: fixed; pointer-events: none; background: #222; color: #fff; font: 12px ui-monospace, monospace;
                   padding: 4px 6px; border-radius: 3px; white-space: pre; z-index: 1; }
            """;

    /** Draws each map on its canvas and shows a cell's query, key and weight under the mouse. */
    private static final String SCRIPT = """
            const tip = document.getElementById('tip');
            const CELL = Math.max(6, Math.min(28, Math.floor(320 / TOKENS.length)));
            const LABELS = CELL >= 10;                      // token labels on the axes when there is room, else every 8th position
            const FONT = `${LABELS ? Math.min(12, CELL - 2) : 10}px ui-monospace, monospace`;
            const cut = s => s.length > 8 ? s.slice(0, 7) + '…' : s;
            const label = i => LABELS ? cut(TOKENS[i]) : String(i);
            const MARGIN = (() => {                         // room for the widest axis label
              const g = document.createElement('canvas').getContext('2d');
              g.font = FONT;
              return 8 + Math.ceil(Math.max(...TOKENS.map((_, i) => g.measureText(label(i)).width)));
            })();
            function color(w) {                             // 0 → white, 1 → dark blue
              const c = (a, b) => Math.round(a + (b - a) * w);
              return `rgb(${c(255, 8)},${c(255, 48)},${c(255, 107)})`;
            }
            function cellAt(canvas, ev) {
              const r = canvas.getBoundingClientRect();
              const s = Math.floor((ev.clientX - r.left - MARGIN) / CELL), t = Math.floor((ev.clientY - r.top - MARGIN) / CELL);
              return t >= 0 && s >= 0 && t < TOKENS.length && s < TOKENS.length ? [t, s] : null;
            }
            function tipText(m, t, s) {
              const w = s <= t ? m.w[t][s] : 0;
              return `layer ${m.layer}, head ${m.head}\\nquery ${t} ${TOKENS[t]} → key ${s} ${TOKENS[s]}\\n` +
                     (s <= t ? `weight ${w.toFixed(4)}` : 'masked (the future): 0');
            }
            for (const canvas of document.querySelectorAll('canvas[data-map]')) {
              const m = MAPS[+canvas.dataset.map], n = TOKENS.length, size = MARGIN + n * CELL + 2;
              const dpr = window.devicePixelRatio || 1;
              canvas.width = size * dpr; canvas.height = size * dpr;
              canvas.style.width = size + 'px'; canvas.style.height = size + 'px';
              const g = canvas.getContext('2d');
              g.scale(dpr, dpr);
              for (let t = 0; t < n; t++) {
                for (let s = 0; s < n; s++) {
                  g.fillStyle = s <= t ? color(m.w[t][s]) : '#e6e6e6';
                  g.fillRect(MARGIN + s * CELL, MARGIN + t * CELL, CELL - (CELL > 8 ? 1 : 0), CELL - (CELL > 8 ? 1 : 0));
                }
              }
              g.fillStyle = '#333';
              g.font = FONT;
              g.textBaseline = 'middle';
              for (let i = 0; i < n; i++) {
                if (!LABELS && i % 8) continue;
                g.textAlign = 'right';
                g.fillText(label(i), MARGIN - 4, MARGIN + i * CELL + CELL / 2);         // rows: query tokens
                g.save();
                g.translate(MARGIN + i * CELL + CELL / 2, MARGIN - 4);
                g.rotate(-Math.PI / 2);
                g.textAlign = 'left';
                g.fillText(label(i), 0, 0);                                             // columns: key tokens, read upwards
                g.restore();
              }
              canvas.addEventListener('mousemove', ev => {
                const at = cellAt(canvas, ev);
                if (!at) { tip.hidden = true; return; }
                tip.textContent = tipText(m, at[0], at[1]);
                tip.style.left = (ev.clientX + 14) + 'px'; tip.style.top = (ev.clientY + 14) + 'px';
                tip.hidden = false;
              });
              canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
            }
            if (location.hash === '#selftest') {           // hover every cell and read the tooltip back
              let cells = 0, bad = [];
              const canvases = document.querySelectorAll('canvas[data-map]');
              for (const canvas of canvases) {
                const m = MAPS[+canvas.dataset.map], r = canvas.getBoundingClientRect();
                for (let t = 0; t < TOKENS.length; t++) {
                  for (let s = 0; s < TOKENS.length; s++) {
                    canvas.dispatchEvent(new MouseEvent('mousemove', {
                      clientX: r.left + MARGIN + s * CELL + CELL / 2, clientY: r.top + MARGIN + t * CELL + CELL / 2 }));
                    const want = s <= t ? 'weight ' + m.w[t][s].toFixed(4) : 'masked (the future): 0';
                    if (tip.hidden || !tip.textContent.endsWith(want) || !tip.textContent.includes(`query ${t} `)) bad.push(`${m.layer}/${m.head} [${t},${s}]: ${tip.textContent}`);
                    cells++;
                  }
                }
              }
              const out = document.getElementById('selftest');
              out.textContent = bad.length ? `selftest FAILED on ${bad.length} of ${cells} cells: ${bad.slice(0, 3).join(' | ')}`
                                           : `selftest ok: ${cells} cells in ${canvases.length} heatmaps show their weight on hover`;
              out.hidden = false;
            }
            """;
}
