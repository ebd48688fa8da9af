package dev.llmj.model;

import dev.llmj.nn.Activation;
import dev.llmj.nn.Param;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The same transformer written the obvious way, in double precision, with plain loops and no
 * buffers shared between layers: the reference that llmj's float forward and hand-written
 * backward are checked against (values, and gradients by central finite differences).
 */
final class ReferenceModel {
    private final ModelConfig c;
    private final Map<String, double[]> p = new HashMap<>();

    ReferenceModel(DecoderLM model) {
        this.c = model.config;
        for (Param q : model.params()) {
            double[] v = new double[q.size()];
            for (int i = 0; i < v.length; i++) v[i] = q.value()[i];
            p.put(q.name, v);
        }
    }

    double[] param(String name) {
        return p.get(name);
    }

    /** Mean cross-entropy of the next-token predictions for ids [B·T] against labels [B·T]. */
    double loss(int[] ids, int[] labels, int batch, int time) {
        double[][] logits = logits(ids, batch, time);
        double total = 0;
        int count = 0;
        for (int r = 0; r < logits.length; r++) {
            if (labels[r] == -100) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (double z : logits[r]) max = Math.max(max, z);
            double sum = 0;
            for (double z : logits[r]) sum += Math.exp(z - max);
            total += Math.log(sum) + max - logits[r][labels[r]];
            count++;
        }
        return total / count;
    }

    double[][] logits(int[] ids, int batch, int time) {
        int d = c.dModel(), rows = batch * time;
        double[][] h = new double[rows][d];
        double[] wte = p.get("tokens.weight");
        for (int r = 0; r < rows; r++) {
            int t = r % time;
            for (int i = 0; i < d; i++) {
                h[r][i] = wte[ids[r] * d + i];
                if (c.position() == ModelConfig.Position.LEARNED) h[r][i] += p.get("positions.weight")[t * d + i];
                if (c.position() == ModelConfig.Position.SINUSOIDAL) {
                    double angle = t / Math.pow(10000.0, (2.0 * (i / 2)) / d);
                    h[r][i] += i % 2 == 0 ? Math.sin(angle) : Math.cos(angle);
                }
            }
        }
        for (int l = 0; l < c.nLayers(); l++) {
            String pre = "layers." + l;
            double[][] a = attention(norm(h, pre + ".norm1"), pre + ".attn", batch, time);
            for (int r = 0; r < rows; r++) for (int i = 0; i < d; i++) h[r][i] += a[r][i];
            double[][] m = mlp(norm(h, pre + ".norm2"), pre + ".mlp");
            for (int r = 0; r < rows; r++) for (int i = 0; i < d; i++) h[r][i] += m[r][i];
        }
        double[][] hn = norm(h, "final_norm");
        double[] w = c.tiedHead() ? wte : p.get("head.weight");
        return linear(hn, w, null, c.vocabSize());
    }

    private double[][] linear(double[][] x, double[] w, double[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[r][i] * w[o * in + i];
                y[r][o] = s;
            }
        }
        return y;
    }

    private double[][] linear(double[][] x, String name, int out) {
        return linear(x, p.get(name + ".weight"), p.get(name + ".bias"), out);
    }

    private double[][] norm(double[][] x, String name) {
        int d = x[0].length;
        double[] g = p.get(name + ".weight"), b = p.get(name + ".bias");
        double[][] y = new double[x.length][d];
        for (int r = 0; r < x.length; r++) {
            if (c.norm().equals("rmsnorm")) {
                double ms = 0;
                for (double v : x[r]) ms += v * v;
                double rs = 1 / Math.sqrt(ms / d + c.normEps());
                for (int i = 0; i < d; i++) y[r][i] = x[r][i] * rs * g[i];
            } else {
                double mean = 0, var = 0;
                for (double v : x[r]) mean += v;
                mean /= d;
                for (double v : x[r]) var += (v - mean) * (v - mean);
                var /= d;
                double rs = 1 / Math.sqrt(var + c.normEps());
                for (int i = 0; i < d; i++) y[r][i] = (x[r][i] - mean) * rs * g[i] + (b == null ? 0 : b[i]);
            }
        }
        return y;
    }

    private void rope(double[][] x, int heads, int time) {
        int hd = c.headDim(), half = hd / 2;
        for (int r = 0; r < x.length; r++) {
            int t = r % time;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < half; i++) {
                    double angle = t * Math.pow(c.ropeTheta(), -(2.0 * i) / hd);
                    double x1 = x[r][h * hd + i], x2 = x[r][h * hd + i + half];
                    x[r][h * hd + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                    x[r][h * hd + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                }
            }
        }
    }

    private double[][] attention(double[][] x, String name, int batch, int time) {
        int H = c.nHeads(), Hkv = c.nKvHeads(), hd = c.headDim(), d = c.dModel();
        double[][] q = linear(x, name + ".q", H * hd), k = linear(x, name + ".k", Hkv * hd), v = linear(x, name + ".v", Hkv * hd);
        if (c.position() == ModelConfig.Position.ROPE) {
            rope(q, H, time);
            rope(k, Hkv, time);
        }
        double[][] out = new double[x.length][H * hd];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < H; h++) {
                int kh = h / (H / Hkv);
                for (int t = 0; t < time; t++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) dot += q[b * time + t][h * hd + i] * k[b * time + u][kh * hd + i];
                        s[u] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) sum += (s[u] = Math.exp(s[u] - max));
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < hd; i++) out[b * time + t][h * hd + i] += s[u] / sum * v[b * time + u][kh * hd + i];
                    }
                }
            }
        }
        return linear(out, name + ".o", d);
    }

    private double act(double x) {
        return switch (c.activation()) {
            case GELU -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case RELU -> Math.max(0, x);
            case SILU, SWIGLU -> x / (1 + Math.exp(-x));
        };
    }

    /**
     * erf in double: the Maclaurin series for |x| ≤ 3 (at most e⁹ of cancellation), else erfc's
     * continued fraction e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), evaluated from the tail.
     */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a <= 3) {
            double term = x, sum = x;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
                term *= -x * x / n;
                sum += term / (2 * n + 1);
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        double f = a;
        for (int k = 80; k >= 1; k--) f = a + (k / 2.0) / f;
        return Math.signum(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
    }

    private double[][] mlp(double[][] x, String name) {
        int hdim = c.hiddenDim(), d = c.dModel();
        boolean glu = c.activation() == Activation.SWIGLU;
        double[][] a = linear(x, name + (glu ? ".gate" : ".fc"), hdim);
        double[][] u = glu ? linear(x, name + ".up", hdim) : null;
        for (int r = 0; r < a.length; r++) for (int i = 0; i < hdim; i++) a[r][i] = act(a[r][i]) * (glu ? u[r][i] : 1);
        return linear(a, name + (glu ? ".down" : ".proj"), d);
    }

    static List<String> names(DecoderLM m) {
        return m.params().stream().map(q -> q.name).toList();
    }
}
