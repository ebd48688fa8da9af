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
        // 13 rows give 4-row micro-tiles and a leftover row; 7 rows (inference) go over the packed weight's strips
        for (int[] s : new int[][] {{13, 768, 3083}, {70, 40, 65}, {7, 768, 300}, {5, 33, 17}}) {
            int rows = s[0], in = s[1], out = s[2];
            float[] x = random(rows * in, 1), w = random(out * in, 2), b = random(out, 3);
            for (float[] bias : new float[][] {b, null}) {
                float[] want = reference(x, w, bias, rows, in, out), y = new float[rows * out];
                Kernels.matmulForward(y, x, w, bias, rows, in, out, new float[in * out]);
                assertArrayEquals(want, y, 2e-3f, rows + "×" + in + "×" + out);
                float[] v = new float[rows * out], p = w.clone();
                Kernels.packPanels(p, out, in);
                Kernels.matmulPanels(v, x, p, bias, rows, in, out);
                assertArrayEquals(want, v, 2e-3f, "packed " + rows + "×" + in + "×" + out);
            }
        }
    }

    @Test
    void backwardMatchesTheScalarLoops() {
        for (int[] s : new int[][] {{13, 768, 300}, {70, 40, 65}, {768, 128, 384}, {5, 33, 17}}) {
            int rows = s[0], in = s[1], out = s[2];
            float[] x = random(rows * in, 7), w = random(out * in, 8), dy = random(rows * out, 9);
            float[] dx = random(rows * in, 10), dw = random(out * in, 11), db = random(out, 12);  // dW and db add to what is there
            double[] wantDx = new double[rows * in], wantDw = new double[out * in], wantDb = new double[out];
            for (int r = 0; r < rows; r++) for (int i = 0; i < in; i++) {
                double acc = 0;                              // dX is overwritten; dW and db accumulate
                for (int o = 0; o < out; o++) acc += (double) dy[r * out + o] * w[o * in + i];
                wantDx[r * in + i] = acc;
            }
            for (int o = 0; o < out; o++) {
                double bsum = db[o];
                for (int r = 0; r < rows; r++) bsum += dy[r * out + o];
                wantDb[o] = bsum;
                for (int i = 0; i < in; i++) {
                    double acc = dw[o * in + i];
                    for (int r = 0; r < rows; r++) acc += (double) dy[r * out + o] * x[r * in + i];
                    wantDw[o * in + i] = acc;
                }
            }
            Kernels.matmulBackwardInput(dx, dy, w, rows, in, out);
            Kernels.matmulBackwardWeight(dw, db, dy, x, rows, in, out, new float[rows * out]);
            String shape = rows + "×" + in + "×" + out;
            for (int i = 0; i < dx.length; i++) assertEquals(wantDx[i], dx[i], 2e-3 + 1e-5 * Math.abs(wantDx[i]), "dx " + shape);
            for (int i = 0; i < dw.length; i++) assertEquals(wantDw[i], dw[i], 5e-3 + 1e-5 * Math.abs(wantDw[i]), "dw " + shape);
            for (int i = 0; i < db.length; i++) assertEquals(wantDb[i], db[i], 5e-3, "db " + shape);
        }
    }

    @Test
    void everyElementIsOneFmaChainInKOrderWhateverTheTiling() {
        // the promise that makes results independent of tiles, panels, k-blocks and threads: y = fma(x[k], m[k], y) for k = 0, 1, …
        // 250 rows on 2 threads: blocks of 60, 66, 60 and 64 rows, whose strips of M are packed (over k blocks of 64, 64, 22)
        // 62 rows on 2 threads: blocks of 18, 12, 18 and 14 rows, so 2 rows are left under every strip width
        // inference's products over a packed W (matmulPanels) keep the same chains: decoding's 1–8 rows over the
        // strips, a prompt's rows through the tiles, whole strips and a narrower last one
        int saved = Parallel.threads();
        Parallel.setThreads(2);
        try {
            for (int[] s : new int[][] {{61, 300, 200}, {13, 768, 3083}, {6, 40, 64}, {17, 513, 65}, {100, 64, 96}, {250, 150, 203}, {62, 70, 96},
                    {1, 768, 2051}, {3, 40, 7}, {8, 33, 17}, {9, 64, 130}}) {
                int rows = s[0], in = s[1], out = s[2];
                float[] x = random(rows * in, 21), w = random(out * in, 22), b = random(out, 23), wt = new float[in * out], p = w.clone();
                Kernels.transpose(w, wt, out, in);
                Kernels.packPanels(p, out, in);
                for (float[] bias : new float[][] {b, null}) { // the chains start from b or 0, never from what Y held
                    float[] y = new float[rows * out], v = new float[rows * out];
                    java.util.Arrays.fill(y, Float.NaN);
                    java.util.Arrays.fill(v, Float.NaN);
                    Kernels.matmulTransposed(y, x, wt, bias, rows, in, out);
                    Kernels.matmulPanels(v, x, p, bias, rows, in, out);
                    for (int r = 0; r < rows; r++) {
                        for (int o = 0; o < out; o++) {
                            float want = bias == null ? 0f : bias[o];
                            for (int k = 0; k < in; k++) want = Math.fma(x[r * in + k], wt[k * out + o], want);
                            assertEquals(want, y[r * out + o], rows + "×" + in + "×" + out + " at " + r + "," + o);
                            assertEquals(want, v[r * out + o], "packed " + rows + "×" + in + "×" + out + " at " + r + "," + o);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void packingPutsWTransposedInStripsInPlaceAndBack() { // inference's layout: strip s = Wᵀ's columns s·PANEL…, [in, width] row-major
        int panel = Kernels.PANEL;
        for (int[] s : new int[][] {{2051, 40}, {7, 33}, {2 * Kernels.PANEL, 768}, {Kernels.PANEL + 1, 3}}) {
            int out = s[0], in = s[1];
            float[] w = random(out * in, 51), p = w.clone(), row = new float[in];
            Kernels.packPanels(p, out, in);
            for (int o = 0; o < out; o++) {
                int strip = o / panel, width = Math.min(panel, out - strip * panel);
                for (int k = 0; k < in; k++) assertEquals(w[o * in + k], p[strip * panel * in + k * width + o - strip * panel], out + "×" + in + " at " + o + "," + k);
                Kernels.packedRow(p, out, in, o, row, 0); // a tied embedding's row, read where it lies
                assertArrayEquals(java.util.Arrays.copyOfRange(w, o * in, (o + 1) * in), row, "row " + o);
            }
            Kernels.unpackPanels(p, out, in);
            assertArrayEquals(w, p, "unpacked " + out + "×" + in);
        }
    }

    @Test
    void dotSumsInItsDocumentedOrderAtEveryLength() { // two chains round-robin, added, the lanes' tree, then the scalar tail
        int lanes = Kernels.L;
        for (int n = 0; n <= 9 * lanes + 3; n++) {
            float[] a = random(n + 5, 51 + n), b = random(n + 7, 52 + n);
            int vectors = n / lanes;
            float[][] acc = new float[2][lanes];
            for (int j = 0; j < vectors; j++) {
                for (int l = 0; l < lanes; l++) acc[j % 2][l] = Math.fma(a[5 + j * lanes + l], b[7 + j * lanes + l], acc[j % 2][l]);
            }
            float[] v = new float[lanes];
            for (int l = 0; l < lanes; l++) v[l] = acc[0][l] + acc[1][l];
            float s = Kernels.treeSum(v);
            for (int i = vectors * lanes; i < n; i++) s += a[5 + i] * b[7 + i];
            assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(Kernels.dot(a, 5, b, 7, n)), "n = " + n);
        }
    }

    @Test
    void dotsGiveTheBitsOfOneDotPerRow() { // decoding's rows and cached keys: lanes added a block of rows later, over block edges
        int lanes = Kernels.L;
        for (int n : new int[] {1, lanes - 1, lanes, 3 * lanes + 2, 4 * lanes, 8 * lanes + 5, 9 * lanes + 3}) { // four rows side by side where n has an even number of vectors
            for (int count : new int[] {1, 63, 64, 65, 130}) {
                float[] a = random(n + 3, 61 + n), b = random(count * n + 9, 62 + count), out = new float[count + 4];
                Kernels.dots(a, 3, b, 9, n, count, out, 2);
                for (int j = 0; j < count; j++) {
                    assertEquals(Float.floatToIntBits(Kernels.dot(a, 3, b, 9 + j * n, n)), Float.floatToIntBits(out[2 + j]), "n = " + n + ", row " + j + " of " + count);
                }
                assertEquals(0f, out[0]);
                assertEquals(0f, out[count + 2]);
            }
        }
    }

    @Test
    void weightedRowsGiveTheBitsOfOneAxpyPerRow() { // attention's values over the KV cache: 4, 1 and 0 vectors wide, then lanes
        int lanes = Kernels.L;
        for (int n : new int[] {1, lanes - 1, lanes, 4 * lanes, 5 * lanes + 3, 9 * lanes}) {
            for (int count : new int[] {0, 1, 7, 130}) {
                float[] w = random(count + 2, 71 + count), v = random(count * n + 5, 72 + n), want = new float[n + 6], got = new float[n + 6];
                for (int s = 0; s < count; s++) Kernels.axpy(w[2 + s], v, 5 + s * n, want, 3, n);
                java.util.Arrays.fill(got, 3, 3 + n, Float.NaN); // overwritten, not added to
                Kernels.weightedRows(w, 2, v, 5, n, count, got, 3);
                assertArrayEquals(want, got, "n = " + n + ", " + count + " rows");
            }
        }
    }

    @Test
    void productsSharingOneRegionGiveTheBitsOfOneCallEach() { // decoding's q, k, v and gate, up: chunks may span two products
        int saved = Parallel.threads();
        try {
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                for (int[] s : new int[][] {{1, 768, 13, 7, 2049}, {3, 40, 6, 5, 0}, {8, 33, 17, 4, 9}, {2, 64, 4 * Kernels.PANEL, Kernels.PANEL + 3, 2 * Kernels.PANEL}}) { // the last 0: two products
                    int rows = s[0], in = s[1];
                    float[] x = random(rows * in, 41);
                    float[][] w = new float[3][], b = new float[3][], joint = new float[3][], alone = new float[3][];
                    for (int p = 0; p < 3; p++) {
                        int out = s[2 + p];
                        w[p] = random(out * in, 42 + p);
                        Kernels.packPanels(w[p], out, in);
                        b[p] = p == 1 ? null : random(out, 45 + p); // one without a bias
                        joint[p] = new float[rows * out];
                        alone[p] = new float[rows * out];
                        Kernels.matmulPanels(alone[p], x, w[p], b[p], rows, in, out);
                    }
                    if (s[4] == 0) Kernels.matmulPanels(x, rows, in, joint[0], w[0], b[0], s[2], joint[1], w[1], b[1], s[3], null, null, null, 0);
                    else Kernels.matmulPanels(x, rows, in, joint[0], w[0], b[0], s[2], joint[1], w[1], b[1], s[3], joint[2], w[2], b[2], s[4]);
                    for (int p = 0; p < 3; p++) assertArrayEquals(alone[p], joint[p], threads + " threads, product " + p + " of " + java.util.Arrays.toString(s));
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void addAndScaleTouchTheirNElementsOnlyWhateverTheThreads() { // residual adds and gradient clipping, split over threads
        int saved = Parallel.threads();
        try {
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                for (int n : new int[] {0, 1, 17, 100_003}) {
                    float[] a = random(n + 5, 1), b = random(n + 5, 2), out = random(n + 5, 3), before = out.clone();
                    Kernels.add(out, a, b, n);
                    for (int i = 0; i < n; i++) assertEquals(a[i] + b[i], out[i], "add " + i);
                    for (int i = n; i < n + 5; i++) assertEquals(before[i], out[i], "past n");
                    float[] c = a.clone();
                    Kernels.add(c, c, b, n); // in place, as dx += dx2
                    for (int i = 0; i < n; i++) assertEquals(a[i] + b[i], c[i]);
                    c = a.clone();
                    Kernels.scale(c, 0.37f, n);
                    for (int i = 0; i < n; i++) assertEquals(a[i] * 0.37f, c[i], "scale " + i);
                    for (int i = n; i < n + 5; i++) assertEquals(a[i], c[i], "past n");
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void productsWithNoRowsOrNoColumnsDoNothing() { // an empty batch, or a layer of width 0, must not divide by zero
        float[] w = random(5 * 3, 1), b = random(5, 2);
        Kernels.matmulForward(new float[0], new float[0], w, b, 0, 3, 5, new float[15]);
        Kernels.matmulForward(new float[0], random(4 * 3, 3), new float[0], null, 4, 3, 0, new float[0]);
        float[] dw = new float[15];
        Kernels.matmulBackwardWeight(dw, new float[5], new float[0], new float[0], 0, 3, 5, new float[5]);
        assertArrayEquals(new float[15], dw);
        float[] y = random(6 * 70, 4), bias = random(70, 5); // no k at all: Y is b, or 0 (70 columns: tiles' and a tail's)
        Kernels.matmulTransposed(y, new float[0], new float[0], bias, 6, 0, 70);
        for (int r = 0; r < 6; r++) assertArrayEquals(bias, java.util.Arrays.copyOfRange(y, r * 70, r * 70 + 70));
        Kernels.matmulTransposed(y, new float[0], new float[0], null, 6, 0, 70);
        assertArrayEquals(new float[6 * 70], y);
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
