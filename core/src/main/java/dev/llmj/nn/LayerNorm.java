package dev.llmj.nn;

import dev.llmj.tensor.Parallel;

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
        if (y == null || this.rows != rows) {
            xhat = new float[rows * d];
            rstd = new float[rows];
            y = new float[rows * d];
            this.rows = rows;
        }
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

    private void forwardRows(int from, int to) {
        float[] x = cx, y = cy, xhat = cXhat, rstd = cRstd, g = weight.value, b = bias == null ? null : bias.value;
        for (int r = from; r < to; r++) {
            int o = r * d;
            float mean = 0f;
            for (int i = 0; i < d; i++) mean += x[o + i];
            mean /= d;
            float var = 0f;
            for (int i = 0; i < d; i++) {
                float c = x[o + i] - mean;
                var += c * c;
            }
            var /= d;
            float rs = (float) (1.0 / Math.sqrt(var + eps));
            if (rstd != null) rstd[r] = rs;
            for (int i = 0; i < d; i++) {
                float h = (x[o + i] - mean) * rs;
                if (xhat != null) xhat[o + i] = h;
                y[o + i] = h * g[i] + (b == null ? 0f : b[i]);
            }
        }
    }

    @Override
    public float[] backward(float[] dy) {
        float[] dx = ws.exact(Workspace.Slot.NORM_DX, rows * d);
        cDy = dy;
        cy = dx;
        cDg = weight.grad();                                                          // made here, not by two workers at once
        cDb = bias == null ? null : bias.grad();
        Parallel.forRange(rows, Math.max(1, 4096 / d), backwardRows);                 // dx: each row its own
        Parallel.forRange(d, Math.max(1, 65536 / Math.max(1, rows)), paramColumns);   // dγ, dβ: each column summed in row order
        cDy = cy = cDg = cDb = null;
        return dx;
    }

    private void backwardRows(int from, int to) {
        float[] dy = cDy, dx = cy, g = weight.value;
        for (int r = from; r < to; r++) {
            int o = r * d;
            float meanG = 0f, meanGx = 0f;
            for (int i = 0; i < d; i++) {
                float gi = dy[o + i] * g[i];
                meanG += gi;
                meanGx += gi * xhat[o + i];
            }
            meanG /= d;
            meanGx /= d;
            for (int i = 0; i < d; i++) {
                dx[o + i] = (dy[o + i] * g[i] - meanG - xhat[o + i] * meanGx) * rstd[r];
            }
        }
    }

    private void paramColumns(int from, int to) {
        float[] dy = cDy, dg = cDg, db = cDb;
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            for (int i = from; i < to; i++) {
                dg[i] += dy[o + i] * xhat[o + i];
                if (db != null) db[i] += dy[o + i];
            }
        }
    }

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
