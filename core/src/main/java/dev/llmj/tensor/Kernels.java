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

    /** Y[R, O] = X[R, I] · W[O, I]ᵀ (+ b[O] if b is not null). Y is overwritten. */
    public static void matmulForward(float[] y, float[] x, float[] w, float[] b, int rows, int in, int out) {
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, out)), (r0, r1) -> {
            int r = r0;
            for (; r + 4 <= r1; r += 4) { // four rows share each weight row's loads
                int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
                for (int o = 0; o < out; o++) {
                    int wo = o * in;
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                    int i = 0;
                    for (int bound = S.loopBound(in); i < bound; i += L) {
                        FloatVector wv = FloatVector.fromArray(S, w, wo + i);
                        a0 = FloatVector.fromArray(S, x, x0 + i).fma(wv, a0);
                        a1 = FloatVector.fromArray(S, x, x1 + i).fma(wv, a1);
                        a2 = FloatVector.fromArray(S, x, x2 + i).fma(wv, a2);
                        a3 = FloatVector.fromArray(S, x, x3 + i).fma(wv, a3);
                    }
                    float s0 = sum(a0), s1 = sum(a1), s2 = sum(a2), s3 = sum(a3);
                    for (; i < in; i++) {
                        float wi = w[wo + i];
                        s0 += x[x0 + i] * wi;
                        s1 += x[x1 + i] * wi;
                        s2 += x[x2 + i] * wi;
                        s3 += x[x3 + i] * wi;
                    }
                    float bo = b == null ? 0f : b[o];
                    y[r * out + o] = s0 + bo;
                    y[(r + 1) * out + o] = s1 + bo;
                    y[(r + 2) * out + o] = s2 + bo;
                    y[(r + 3) * out + o] = s3 + bo;
                }
            }
            for (; r < r1; r++) {
                for (int o = 0; o < out; o++) y[r * out + o] = dot(x, r * in, w, o * in, in) + (b == null ? 0f : b[o]);
            }
        });
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
