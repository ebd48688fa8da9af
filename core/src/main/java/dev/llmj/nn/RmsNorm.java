package dev.llmj.nn;

import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
        rstd = Workspace.grow(rstd, rows);
        y = Workspace.grow(y, rows * d);
        this.rows = rows;
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

    /** Rows [from, to): each row's mean square a sum in element order, four rows' chains side by side (as LayerNorm's). */
    private void forwardRows(int from, int to) {
        float[] x = cx;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            int o0 = r * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            for (int i = 0; i < d; i++) {
                s0 += x[o0 + i] * x[o0 + i];
                s1 += x[o1 + i] * x[o1 + i];
                s2 += x[o2 + i] * x[o2 + i];
                s3 += x[o3 + i] * x[o3 + i];
            }
            normaliseRow(r, s0);
            normaliseRow(r + 1, s1);
            normaliseRow(r + 2, s2);
            normaliseRow(r + 3, s3);
        }
        for (; r < to; r++) {
            int o = r * d;
            float ms = 0f;
            for (int i = 0; i < d; i++) ms += x[o + i] * x[o + i];
            normaliseRow(r, ms);
        }
    }

    /** Row r of y (and 1/rms when kept) from its sum of squares. */
    private void normaliseRow(int r, float ms) {
        float[] x = cx, y = cy, g = weight.value;
        int o = r * d;
        float rs = (float) (1.0 / Math.sqrt(ms / d + eps));
        if (cRstd != null) cRstd[r] = rs;
        for (int i = 0; i < d; i++) y[o + i] = x[o + i] * rs * g[i];
    }

    @Override
    public float[] backward(float[] dy) {
        float[] dx = ws.get(Workspace.Slot.NORM_DX, rows * d);
        cDy = dy;
        cy = dx;
        cDg = weight.grad();                                                          // made here, not by two workers at once
        Parallel.forRange(rows, Math.max(1, 4096 / d), backwardRows);                 // dx: each row its own
        Parallel.forRange((d + S.length() - 1) / S.length(), 1, paramColumns);        // dγ: each column summed in row order, a vector of columns per task
        cDy = cy = cDg = null;
        return dx;
    }

    /** Rows [from, to) of dx: each row's dot product in element order, four rows' chains side by side. */
    private void backwardRows(int from, int to) {
        float[] dy = cDy, g = weight.value;
        int r = from;
        for (; r + 4 <= to; r += 4) {
            int o0 = r * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            for (int i = 0; i < d; i++) {
                s0 += dy[o0 + i] * g[i] * x[o0 + i];
                s1 += dy[o1 + i] * g[i] * x[o1 + i];
                s2 += dy[o2 + i] * g[i] * x[o2 + i];
                s3 += dy[o3 + i] * g[i] * x[o3 + i];
            }
            dxRow(r, s0);
            dxRow(r + 1, s1);
            dxRow(r + 2, s2);
            dxRow(r + 3, s3);
        }
        for (; r < to; r++) {
            int o = r * d;
            float dot = 0f;
            for (int i = 0; i < d; i++) dot += dy[o + i] * g[i] * x[o + i];
            dxRow(r, dot);
        }
    }

    /** Row r of dx from Σ dy·γ·x. */
    private void dxRow(int r, float dot) {
        float[] dy = cDy, dx = cy, g = weight.value;
        int o = r * d;
        float rs = rstd[r], c = dot / d * rs * rs * rs;
        for (int i = 0; i < d; i++) dx[o + i] = dy[o + i] * g[i] * rs - x[o + i] * c;
    }

    /** Vectors of columns [from, to) of dγ: each column's sum down the rows, in row order, in a register. */
    private void paramColumns(int from, int to) {
        float[] dy = cDy, dg = cDg;
        int n = S.length(), c = from * n, end = Math.min(d, to * n);
        for (; c + n <= end; c += n) {
            FloatVector g = FloatVector.fromArray(S, dg, c);
            for (int r = 0, o = c; r < rows; r++, o += d) {
                g = g.add(FloatVector.fromArray(S, dy, o).mul(FloatVector.fromArray(S, x, o)).mul(rstd[r]));
            }
            g.intoArray(dg, c);
        }
        for (int r = 0; r < rows && c < end; r++) { // columns past the last whole vector
            int o = r * d;
            float rs = rstd[r];
            for (int i = c; i < end; i++) dg[i] += dy[o + i] * x[o + i] * rs;
        }
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override
    public void share(Workspace ws) {
        this.ws = ws;
    }

    @Override
    public List<Param> params() {
        return List.of(weight);
    }
}
