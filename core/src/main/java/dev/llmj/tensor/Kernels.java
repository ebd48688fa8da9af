package dev.llmj.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The numeric kernels, on plain row-major {@code float[]} arrays. A linear layer's weight is
 * stored {@code [out, in]} (as PyTorch's {@code nn.Linear}), so its three training products are
 * <pre>
 *   forward   Y  = X · Wᵀ + b      [R, O] = [R, I] · [O, I]ᵀ
 *   backward  dX += dY · W         [R, I] = [R, O] · [O, I]
 *             dW += dYᵀ · X        [O, I] = [R, O]ᵀ · [R, I]
 * </pre>
 * Each output element is summed by one thread in a fixed order (vector lanes, then the lanes
 * added in lane order), so results depend neither on the thread count nor on whether the JIT has
 * compiled the loop yet. Scalar references for every
 * kernel live in the tests.
 */
public final class Kernels {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private Kernels() {}

    /** Σ a[ao+i]·b[bo+i] for i in [0, n). */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /**
     * The lanes added in lane order. reduceLanes(ADD) may add them in another order once the JIT
     * compiles it (a tree), which would change the last bits between a cold and a warm run.
     */
    static float sum(FloatVector v) {
        float s = 0f;
        for (int k = 0; k < L; k++) s += v.lane(k);
        return s;
    }

    /** y[yo+i] += alpha·x[xo+i] for i in [0, n). */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /**
     * Y[R, O] = X[R, I] · W[O, I]ᵀ (+ b[O] if b is not null). Y is overwritten. W is first copied
     * transposed into {@code wt} [I, O] (a 1/R share of the work), so every output row is built
     * from contiguous multiply-adds, y_r += x[r, i] · Wᵀ_i, with no horizontal sums.
     */
    public static void matmulForward(float[] y, float[] x, float[] w, float[] b, int rows, int in, int out, float[] wt) {
        transpose(w, wt, out, in);
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, out)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int yo = r * out, xo = r * in;
                if (b != null) System.arraycopy(b, 0, y, yo, out);
                else java.util.Arrays.fill(y, yo, yo + out, 0f);
                for (int i = 0; i < in; i++) {
                    float xi = x[xo + i];
                    if (xi != 0f) axpy(xi, wt, i * out, y, yo, out);
                }
            }
        });
    }

    /** dst[C, R] = src[R, C]ᵀ. */
    public static void transpose(float[] src, float[] dst, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int so = r * cols;
            for (int c = 0; c < cols; c++) dst[c * rows + r] = src[so + c];
        }
    }

    /** dX[R, I] += dY[R, O] · W[O, I]. */
    public static void matmulBackwardInput(float[] dx, float[] dy, float[] w, int rows, int in, int out) {
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, in)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int o = 0; o < out; o++) {
                    float g = dy[r * out + o];
                    if (g != 0f) axpy(g, w, o * in, dx, r * in, in);
                }
            }
        });
    }

    /** dW[O, I] += dY[R, O]ᵀ · X[R, I], and db[O] += Σ_r dY[r, O] if db is not null. */
    public static void matmulBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, int rows, int in, int out) {
        Parallel.forRange(out, Math.max(1, 16384 / Math.max(1, rows * 4)), (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                float bsum = 0f;
                for (int r = 0; r < rows; r++) {
                    float g = dy[r * out + o];
                    bsum += g;
                    if (g != 0f) axpy(g, x, r * in, dw, o * in, in);
                }
                if (db != null) db[o] += bsum;
            }
        });
    }
}
