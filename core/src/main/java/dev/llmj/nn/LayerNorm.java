package dev.llmj.nn;

import dev.llmj.tensor.Kernels;
import dev.llmj.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
        java.util.Arrays.fill(weight.value(), 1f);
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
     * Rows [from, to), each on whole vectors (the last one masked): its mean, then its variance about
     * the mean, each summed per lane and then over the lanes in a fixed tree
     * ({@link Kernels#treeSum}), then y. The same bits on any thread, compiled or not.
     */
    private void forwardRows(int from, int to) {
        float[] x = cx, y = cy, xhat = cXhat, g = weight.value(), b = bias == null ? null : bias.value(), lanes = Kernels.lanes();
        for (int r = from; r < to; r++) {
            int o = r * d;
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < d; i += L) acc = acc.add(FloatVector.fromArray(S, x, o + i, S.indexInRange(i, d))); // lanes past d load 0
            acc.intoArray(lanes, 0);
            float mean = Kernels.treeSum(lanes) / d;
            acc = FloatVector.zero(S);
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector c = FloatVector.fromArray(S, x, o + i, m).sub(mean, m); // lanes past d stay 0
                acc = c.fma(c, acc);
            }
            acc.intoArray(lanes, 0);
            float rs = (float) (1.0 / Math.sqrt(Kernels.treeSum(lanes) / d + eps));
            if (cRstd != null) cRstd[r] = rs;
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector h = FloatVector.fromArray(S, x, o + i, m).sub(mean).mul(rs);
                if (xhat != null) h.intoArray(xhat, o + i, m);
                FloatVector gv = FloatVector.fromArray(S, g, i, m);
                (b == null ? h.mul(gv) : h.fma(gv, FloatVector.fromArray(S, b, i, m))).intoArray(y, o + i, m);
            }
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

    /**
     * Rows [from, to) of dx: with g = dy·γ, each row's Σ g and Σ g·x̂ on whole vectors (the last one
     * masked: its lanes past d load 0) and the lanes' fixed tree, as {@link #forwardRows}; then the row.
     */
    private void backwardRows(int from, int to) {
        float[] dy = cDy, dx = cy, gamma = weight.value(), lanes = Kernels.lanes();
        for (int r = from; r < to; r++) {
            int o = r * d;
            FloatVector sg = FloatVector.zero(S), sgx = sg;
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector gi = FloatVector.fromArray(S, dy, o + i, m).mul(FloatVector.fromArray(S, gamma, i, m));
                sg = sg.add(gi);
                sgx = gi.fma(FloatVector.fromArray(S, xhat, o + i, m), sgx);
            }
            sg.intoArray(lanes, 0);
            float meanG = Kernels.treeSum(lanes) / d;
            sgx.intoArray(lanes, 0);
            float meanGx = Kernels.treeSum(lanes) / d, rs = rstd[r];
            for (int i = 0; i < d; i += L) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector gi = FloatVector.fromArray(S, dy, o + i, m).mul(FloatVector.fromArray(S, gamma, i, m));
                gi.sub(meanG).sub(FloatVector.fromArray(S, xhat, o + i, m).mul(meanGx)).mul(rs).intoArray(dx, o + i, m);
            }
        }
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
    private static final int L = S.length();

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
