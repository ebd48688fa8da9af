package dev.llmj.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API kernels against plain scalar loops, at shapes that reach every tile and tail. */
class KernelsTest {
    static float[] random(int n, long seed) {
        Rng r = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** Y = X·Wᵀ + b in double: the reference. */
    static float[] reference(float[] x, float[] w, float[] b, int rows, int in, int out) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += (double) x[r * in + i] * w[o * in + i];
                y[r * out + o] = (float) s;
            }
        }
        return y;
    }

    @Test
    void forwardMatchesTheScalarLoopAcrossPanelsRowBlocksAndTails() {
        // in = 768 makes panels of 64 columns, so 3083 columns give 48 full panels and a ragged one;
        // 13 rows give 4-row micro-tiles and a leftover row; 7 rows take the matrix–vector kernel
        for (int[] s : new int[][] {{13, 768, 3083}, {70, 40, 65}, {7, 768, 300}, {5, 33, 17}}) {
            int rows = s[0], in = s[1], out = s[2];
            float[] x = random(rows * in, 1), w = random(out * in, 2), b = random(out, 3);
            for (float[] bias : new float[][] {b, null}) {
                float[] want = reference(x, w, bias, rows, in, out), y = new float[rows * out];
                Kernels.matmulForward(y, x, w, bias, rows, in, out, new float[in * out]);
                assertArrayEquals(want, y, 2e-3f, rows + "×" + in + "×" + out);
                float[] v = new float[rows * out];
                Kernels.matmulRows(v, x, w, bias, rows, in, out);
                assertArrayEquals(want, v, 2e-3f, "rows " + rows + "×" + in + "×" + out);
            }
        }
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        int rows = 37, in = 200, out = 515;
        float[] x = random(rows * in, 4), w = random(out * in, 5), one = new float[rows * out], two = new float[rows * out];
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            Kernels.matmulForward(one, x, w, null, rows, in, out, new float[in * out]);
            Parallel.setThreads(3);
            Kernels.matmulForward(two, x, w, null, rows, in, out, new float[in * out]);
        } finally {
            Parallel.setThreads(saved);
        }
        assertArrayEquals(one, two);
    }

    @Test
    void transposeIsExactForRaggedBlocks() {
        int rows = 33, cols = 70;
        float[] a = random(rows * cols, 6), t = new float[rows * cols];
        Kernels.transpose(a, t, rows, cols);
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(a[r * cols + c], t[c * rows + r]);
    }
}
