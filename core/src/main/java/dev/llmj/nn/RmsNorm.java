package dev.llmj.nn;

import dev.llmj.tensor.Parallel;

import java.util.List;

/**
 * y = x / √(mean(x²) + eps) · γ (Llama). Backward, with r = 1/√(mean(x²)+eps) and g = dy·γ:
 * dx = r·g − x·r³·mean(g·x).
 */
public final class RmsNorm implements Norm {
    private final int d;
    private final float eps;
    public final Param weight; // [d]
    private float[] x, rstd, y;
    private Workspace ws = new Workspace(); // dX: shared with a model's other block norms (share)
    private int rows;

    public RmsNorm(String name, int d, float eps) {
        this.d = d;
        this.eps = eps;
        this.weight = new Param(name + ".weight", false, d);
        java.util.Arrays.fill(weight.value, 1f);
    }

    @Override
    public float[] forward(float[] x, int rows) {
        if (y == null || this.rows != rows) {
            rstd = new float[rows];
            y = new float[rows * d];
            this.rows = rows;
        }
        this.x = x;
        return normalise(x, rows, y, rstd);
    }

    @Override
    public float[] apply(float[] x, int rows, float[] y) {
        return normalise(x, rows, y, null);
    }

    /** y = the normalised rows; 1/rms kept in {@code rstd} when not null. Rows in parallel: each is its own. */
    private float[] normalise(float[] x, int rows, float[] y, float[] rstd) {
        cx = x;
        cy = y;
        cRstd = rstd;
        Parallel.forRange(rows, Math.max(1, 4096 / d), forwardRows);
        cx = cy = cRstd = null;
        return y;
    }

    // a call's arrays, for the parallel regions (fields, not a lambda's captures: no allocation per call)
    private float[] cx, cy, cRstd, cDy, cDg;
    private final Parallel.RangeTask forwardRows = this::forwardRows, backwardRows = this::backwardRows, paramColumns = this::paramColumns;

    private void forwardRows(int from, int to) {
        float[] x = cx, y = cy, rstd = cRstd, g = weight.value;
        for (int r = from; r < to; r++) {
            int o = r * d;
            float ms = 0f;
            for (int i = 0; i < d; i++) ms += x[o + i] * x[o + i];
            float rs = (float) (1.0 / Math.sqrt(ms / d + eps));
            if (rstd != null) rstd[r] = rs;
            for (int i = 0; i < d; i++) y[o + i] = x[o + i] * rs * g[i];
        }
    }

    @Override
    public float[] backward(float[] dy) {
        float[] dx = ws.exact(Workspace.Slot.NORM_DX, rows * d);
        cDy = dy;
        cy = dx;
        cDg = weight.grad();                                                          // made here, not by two workers at once
        Parallel.forRange(rows, Math.max(1, 4096 / d), backwardRows);                 // dx: each row its own
        Parallel.forRange(d, Math.max(1, 65536 / Math.max(1, rows)), paramColumns);   // dγ: each column summed in row order
        cDy = cy = cDg = null;
        return dx;
    }

    private void backwardRows(int from, int to) {
        float[] dy = cDy, dx = cy, g = weight.value;
        for (int r = from; r < to; r++) {
            int o = r * d;
            float rs = rstd[r], dot = 0f;
            for (int i = 0; i < d; i++) dot += dy[o + i] * g[i] * x[o + i];
            float c = dot / d * rs * rs * rs;
            for (int i = 0; i < d; i++) dx[o + i] = dy[o + i] * g[i] * rs - x[o + i] * c;
        }
    }

    private void paramColumns(int from, int to) {
        float[] dy = cDy, dg = cDg;
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            float rs = rstd[r];
            for (int i = from; i < to; i++) dg[i] += dy[o + i] * x[o + i] * rs;
        }
    }

    @Override
    public void share(Workspace ws) {
        this.ws = ws;
    }

    @Override
    public List<Param> params() {
        return List.of(weight);
    }
}
