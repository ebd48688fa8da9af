package dev.llmj.nn;

import dev.llmj.tensor.Kernels;
import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
        java.util.Arrays.fill(weight.value(), 1f);
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

    /** Rows [from, to): each row's sum of squares on whole vectors (the last one masked) and the lanes' fixed tree, as LayerNorm's; then y. */
    private void forwardRows(int from, int to) {
        float[] x = cx, y = cy, g = weight.value(), lanes = Kernels.lanes();
        for (int r = from; r < to; r++) {
            int o = r * d;
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < d; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, o + i, S.indexInRange(i, d)); // lanes past d load 0
                acc = v.fma(v, acc);
            }
            acc.intoArray(lanes, 0);
            float rs = (float) (1.0 / Math.sqrt(Kernels.treeSum(lanes) / d + eps));
            if (cRstd != null) cRstd[r] = rs;
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector.fromArray(S, x, o + i, m).mul(rs).mul(FloatVector.fromArray(S, g, i, m)).intoArray(y, o + i, m);
            }
        }
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

    /** Rows [from, to) of dx: each row's Σ dy·γ·x on whole vectors (the last one masked) and the lanes' fixed tree; then the row. */
    private void backwardRows(int from, int to) {
        float[] dy = cDy, dx = cy, g = weight.value(), x = this.x, lanes = Kernels.lanes();
        for (int r = from; r < to; r++) {
            int o = r * d;
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                acc = FloatVector.fromArray(S, dy, o + i, m).mul(FloatVector.fromArray(S, g, i, m)).fma(FloatVector.fromArray(S, x, o + i, m), acc);
            }
            acc.intoArray(lanes, 0);
            float rs = rstd[r], c = Kernels.treeSum(lanes) / d * rs * rs * rs;
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector gi = FloatVector.fromArray(S, dy, o + i, m).mul(FloatVector.fromArray(S, g, i, m));
                gi.mul(rs).sub(FloatVector.fromArray(S, x, o + i, m).mul(c)).intoArray(dx, o + i, m);
            }
        }
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
    private static final int L = S.length();

    @Override
    public void share(Workspace ws) {
        this.ws = ws;
    }

    @Override
    public List<Param> params() {
        return List.of(weight);
    }
}
