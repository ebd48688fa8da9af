package dev.llmj.nn;

import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * y = (x − mean) / √(var + eps) · γ + β over each row of d values (biased variance, as PyTorch).
 * Backward, with x̂ the normalised row and g = dy·γ:
 * dx = (g − mean(g) − x̂·mean(g·x̂)) / √(var + eps).
 */
public final class LayerNorm implements Norm {
    private final int d;
    private final float eps;
    public final Param weight, bias; // [d] each; bias may be null
    private float[] xhat, rstd, y;
    private Workspace ws = new Workspace(); // dX: shared with a model's other block norms (share)
    private int rows;

    public LayerNorm(String name, int d, float eps, boolean withBias) {
        this.d = d;
        this.eps = eps;
        this.weight = new Param(name + ".weight", false, d);
        java.util.Arrays.fill(weight.value, 1f);
        this.bias = withBias ? new Param(name + ".bias", false, d) : null;
    }

    @Override
    public float[] forward(float[] x, int rows) {
        xhat = Workspace.grow(xhat, rows * d);
        rstd = Workspace.grow(rstd, rows);
        y = Workspace.grow(y, rows * d);
        this.rows = rows;
        return normalise(x, rows, y, xhat, rstd);
    }

    @Override
    public float[] apply(float[] x, int rows, float[] y) {
        return normalise(x, rows, y, null, null);
    }

    /** y = the normalised rows; x̂ and 1/σ kept in {@code xhat}, {@code rstd} when not null. Rows in parallel: each is its own. */
    private float[] normalise(float[] x, int rows, float[] y, float[] xhat, float[] rstd) {
        cx = x;
        cy = y;
        cXhat = xhat;
        cRstd = rstd;
        Parallel.forRange(rows, Math.max(1, 4096 / d), forwardRows);
        cx = cy = cXhat = cRstd = null;
        return y;
    }

    // a call's arrays, for the parallel regions (fields, not a lambda's captures: no allocation per call)
    private float[] cx, cy, cXhat, cRstd, cDy, cDg, cDb;
    private final Parallel.RangeTask forwardRows = this::forwardRows, backwardRows = this::backwardRows, paramColumns = this::paramColumns;

    /**
     * Rows [from, to). A row's mean and variance are sums in element order, one float chain each; four
     * rows at a time run their chains side by side, so each add waits on its own row's previous one
     * only (one chain per row left the adder idle through each add's latency). The same bits.
     */
    private void forwardRows(int from, int to) {
        float[] x = cx;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            int o0 = r * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float m0 = 0f, m1 = 0f, m2 = 0f, m3 = 0f;
            for (int i = 0; i < d; i++) {
                m0 += x[o0 + i];
                m1 += x[o1 + i];
                m2 += x[o2 + i];
                m3 += x[o3 + i];
            }
            m0 /= d;
            m1 /= d;
            m2 /= d;
            m3 /= d;
            float v0 = 0f, v1 = 0f, v2 = 0f, v3 = 0f;
            for (int i = 0; i < d; i++) {
                float c0 = x[o0 + i] - m0, c1 = x[o1 + i] - m1, c2 = x[o2 + i] - m2, c3 = x[o3 + i] - m3;
                v0 += c0 * c0;
                v1 += c1 * c1;
                v2 += c2 * c2;
                v3 += c3 * c3;
            }
            normaliseRow(r, m0, v0 / d);
            normaliseRow(r + 1, m1, v1 / d);
            normaliseRow(r + 2, m2, v2 / d);
            normaliseRow(r + 3, m3, v3 / d);
        }
        for (; r < to; r++) {
            int o = r * d;
            float mean = 0f;
            for (int i = 0; i < d; i++) mean += x[o + i];
            mean /= d;
            float var = 0f;
            for (int i = 0; i < d; i++) {
                float c = x[o + i] - mean;
                var += c * c;
            }
            normaliseRow(r, mean, var / d);
        }
    }

    /** Row r of y (and x̂, 1/σ when kept) from its mean and variance. */
    private void normaliseRow(int r, float mean, float var) {
        float[] x = cx, y = cy, xhat = cXhat, g = weight.value, b = bias == null ? null : bias.value;
        int o = r * d;
        float rs = (float) (1.0 / Math.sqrt(var + eps));
        if (cRstd != null) cRstd[r] = rs;
        for (int i = 0; i < d; i++) {
            float h = (x[o + i] - mean) * rs;
            if (xhat != null) xhat[o + i] = h;
            y[o + i] = h * g[i] + (b == null ? 0f : b[i]);
        }
    }

    @Override
    public float[] backward(float[] dy) {
        float[] dx = ws.get(Workspace.Slot.NORM_DX, rows * d);
        cDy = dy;
        cy = dx;
        cDg = weight.grad();                                                          // made here, not by two workers at once
        cDb = bias == null ? null : bias.grad();
        Parallel.forRange(rows, Math.max(1, 4096 / d), backwardRows);                 // dx: each row its own
        Parallel.forRange((d + S.length() - 1) / S.length(), 1, paramColumns);        // dγ, dβ: each column summed in row order, a vector of columns per task
        cDy = cy = cDg = cDb = null;
        return dx;
    }

    /** Rows [from, to) of dx: each row's two sums in element order, four rows' chains side by side (as {@link #forwardRows}). */
    private void backwardRows(int from, int to) {
        float[] dy = cDy, g = weight.value;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            int o0 = r * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
            for (int i = 0; i < d; i++) {
                float g0 = dy[o0 + i] * g[i], g1 = dy[o1 + i] * g[i], g2 = dy[o2 + i] * g[i], g3 = dy[o3 + i] * g[i];
                a0 += g0;
                b0 += g0 * xhat[o0 + i];
                a1 += g1;
                b1 += g1 * xhat[o1 + i];
                a2 += g2;
                b2 += g2 * xhat[o2 + i];
                a3 += g3;
                b3 += g3 * xhat[o3 + i];
            }
            dxRow(r, a0 / d, b0 / d);
            dxRow(r + 1, a1 / d, b1 / d);
            dxRow(r + 2, a2 / d, b2 / d);
            dxRow(r + 3, a3 / d, b3 / d);
        }
        for (; r < to; r++) {
            int o = r * d;
            float meanG = 0f, meanGx = 0f;
            for (int i = 0; i < d; i++) {
                float gi = dy[o + i] * g[i];
                meanG += gi;
                meanGx += gi * xhat[o + i];
            }
            dxRow(r, meanG / d, meanGx / d);
        }
    }

    /** Row r of dx from mean(g) and mean(g·x̂). */
    private void dxRow(int r, float meanG, float meanGx) {
        float[] dy = cDy, dx = cy, g = weight.value;
        int o = r * d;
        for (int i = 0; i < d; i++) dx[o + i] = (dy[o + i] * g[i] - meanG - xhat[o + i] * meanGx) * rstd[r];
    }

    /** Vectors of columns [from, to) of dγ and dβ: each column's sum down the rows, in row order, in a register. */
    private void paramColumns(int from, int to) {
        float[] dy = cDy, dg = cDg, db = cDb;
        int n = S.length(), c = from * n, end = Math.min(d, to * n);
        for (; c + n <= end; c += n) { // two loops, not a vector that may be null: that one would be boxed at every row
            FloatVector g = FloatVector.fromArray(S, dg, c);
            if (db == null) {
                for (int r = 0, o = c; r < rows; r++, o += d) g = g.add(FloatVector.fromArray(S, dy, o).mul(FloatVector.fromArray(S, xhat, o)));
            } else {
                FloatVector b = FloatVector.fromArray(S, db, c);
                for (int r = 0, o = c; r < rows; r++, o += d) {
                    FloatVector v = FloatVector.fromArray(S, dy, o);
                    g = g.add(v.mul(FloatVector.fromArray(S, xhat, o)));
                    b = b.add(v);
                }
                b.intoArray(db, c);
            }
            g.intoArray(dg, c);
        }
        for (int r = 0; r < rows && c < end; r++) { // columns past the last whole vector
            int o = r * d;
            for (int i = c; i < end; i++) {
                dg[i] += dy[o + i] * xhat[o + i];
                if (db != null) db[i] += dy[o + i];
            }
        }
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override
    public void share(Workspace ws) {
        this.ws = ws;
    }

    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>(2);
        ps.add(weight);
        if (bias != null) ps.add(bias);
        return ps;
    }
}
