package dev.llmj.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The numeric kernels, on plain row-major {@code float[]} arrays. A linear layer's weight is
 * stored {@code [out, in]} (as PyTorch's {@code nn.Linear}), so its three training products are
 * <pre>
 *   forward   Y  = X · Wᵀ + b      [R, O] = [R, I] · [O, I]ᵀ
 *   backward  dX += dY · W         [R, I] = [R, O] · [O, I]
 *             dW += dYᵀ · X        [O, I] = [R, O]ᵀ · [R, I]
 * </pre>
 * Inference reads each weight packed in place into strips of Wᵀ ({@link #packPanels}, {@link #matmulPanels}),
 * with the forward's bits.
 * Each output element is summed by one thread in a fixed order, so results depend neither on the
 * thread count nor on whether the JIT has compiled the loop yet. In the products (axpy and gemm)
 * every element is one chain of FMAs in k order, vector lanes and scalar tails alike, so any
 * tiling — and leaving out terms that are exactly zero — gives the same bits. Scalar references
 * for every kernel live in the tests.
 */
public final class Kernels {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** Columns of the narrowest vector tile ({@link #block6x2}): a product this many columns wide (or a multiple) has no scalar tail. */
    public static final int TILE_COLUMNS = 2 * L;

    private Kernels() {}

    /**
     * Σ a[ao+i]·b[bo+i] for i in [0, n): vector j of the row goes into accumulator j mod 2, the two
     * are added, then the lanes ({@link #sum}), then the scalar tail in order. Attention over the KV cache
     * reads its keys through {@link #dots}, which gives these bits for many rows at once.
     */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0, vectors = n / L;
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        for (int bound = (vectors & ~1) * L; i < bound; i += 2 * L) {
            a0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), a0);
            a1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), a1);
        }
        if ((vectors & 1) != 0) { // an odd last vector goes into accumulator 0
            a0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), a0);
            i += L;
        }
        float s = sum(a0.add(a1));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /**
     * out[oo + j] = {@link #dot}(a, ao, b, bo + j·n, n) for j in [0, count): one vector a against count
     * rows of b that follow each other, with the same bits as count calls. Each row's two accumulators
     * are added into one vector and stored; the lanes are added up ({@link #treeSum}) after a block of
     * rows, so the loop that streams b's rows does no shuffles between them. Rows of an even number of
     * vectors (every model's widths and head sizes) go four side by side ({@link #fourRows}).
     * <p>
     * Attention over the KV cache reads each head's keys through here. Decoding read its weight rows through here
     * too, before they were packed ({@link #matmulPanels}). In a throwaway harness over llama-110m's shapes on the
     * Zen 5 EPYC (GB/s, medians of 20–35 passes alternating with the other forms in one process, in a slow
     * spell / a fast one of the machine's bandwidth, when summing the same arrays bare read 42–48 / 70–82):
     * a dot per row, four chains, its lanes added by shuffles, 39–44 / 52–55; the lanes added a block of
     * rows later, 41–43 / 52–59; four rows side by side, 45–48 / 60–62; with two chains and a read from
     * index 0, 45–47 / 61–63; with {@link #treeSums16}, 45–47 / 64–68.
     */
    public static void dots(float[] a, int ao, float[] b, int bo, int n, int count, float[] out, int oo) {
        float[] v = DOTS.get(), x = a;
        int vectors = n / L, tail = vectors * L;
        if (ao != 0) { // the kernels read a from index 0: an offset in its every load made them 9% slower
            x = DOTS_A.get();
            if (x.length < n) DOTS_A.set(x = new float[n]);
            System.arraycopy(a, ao, x, 0, n);
        }
        for (int j0 = 0; j0 < count; j0 += DOTS_BLOCK) {
            int j1 = Math.min(count, j0 + DOTS_BLOCK), j = j0, ro = bo + j0 * n;
            if ((vectors & 1) == 0) {
                int groups = (j1 - j) / 4;
                fourRows(x, b, ro, n, tail, groups, v, 0);
                j += 4 * groups;
                ro += 4 * groups * n;
            }
            for (; j < j1; j++, ro += n) oneRow(x, b, ro, vectors, v, (j - j0) * L);
            j = j0;
            if (L == 16) for (; j + 16 <= j1; j += 16) treeSums16(v, (j - j0) * L, out, oo + j);
            for (; j < j1; j++) out[oo + j] = treeSum(v, (j - j0) * L);
            if (tail < n) {
                for (j = j0, ro = bo + j0 * n; j < j1; j++, ro += n) {
                    float s = out[oo + j];
                    for (int i = tail; i < n; i++) s += a[ao + i] * b[ro + i];
                    out[oo + j] = s;
                }
            }
        }
    }

    /** {@link #dot}'s vector part of one row: a0 + a1, vector j of the row into accumulator j mod 2, stored at v[vo…vo+L). */
    private static void oneRow(float[] a, float[] b, int ro, int vectors, float[] v, int vo) {
        int i = 0;
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        for (int bound = (vectors & ~1) * L; i < bound; i += 2 * L) {
            a0 = FloatVector.fromArray(S, a, i).fma(FloatVector.fromArray(S, b, ro + i), a0);
            a1 = FloatVector.fromArray(S, a, i + L).fma(FloatVector.fromArray(S, b, ro + i + L), a1);
        }
        if ((vectors & 1) != 0) a0 = FloatVector.fromArray(S, a, i).fma(FloatVector.fromArray(S, b, ro + i), a0);
        a0.add(a1).intoArray(v, vo);
    }

    /**
     * {@link #oneRow} for groups of four rows of b (n apart from rs on, {@code bound} = n rounded down to whole
     * vectors, an even number of them), the four side by side: each vector of a is loaded once for four rows,
     * and 8 chains are in flight. The groups loop here, not in the caller: a call per group read 3–10% slower.
     */
    private static void fourRows(float[] a, float[] b, int rs, int n, int bound, int groups, float[] v, int vs) {
        for (int g = 0; g < groups; g++) {
            int r0 = rs + 4 * g * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n, vo = vs + 4 * g * L;
            FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
            for (int i = 0; i < bound; i += 2 * L) {
                FloatVector x0 = FloatVector.fromArray(S, a, i), x1 = FloatVector.fromArray(S, a, i + L);
                a0 = x0.fma(FloatVector.fromArray(S, b, r0 + i), a0);
                a1 = x1.fma(FloatVector.fromArray(S, b, r0 + i + L), a1);
                b0 = x0.fma(FloatVector.fromArray(S, b, r1 + i), b0);
                b1 = x1.fma(FloatVector.fromArray(S, b, r1 + i + L), b1);
                c0 = x0.fma(FloatVector.fromArray(S, b, r2 + i), c0);
                c1 = x1.fma(FloatVector.fromArray(S, b, r2 + i + L), c1);
                d0 = x0.fma(FloatVector.fromArray(S, b, r3 + i), d0);
                d1 = x1.fma(FloatVector.fromArray(S, b, r3 + i + L), d1);
            }
            a0.add(a1).intoArray(v, vo);
            b0.add(b1).intoArray(v, vo + L);
            c0.add(c1).intoArray(v, vo + 2 * L);
            d0.add(d1).intoArray(v, vo + 3 * L);
        }
    }

    /**
     * out[oo + r] = {@link #treeSum}(v, vo + 16·r) for the 16 vectors r in [0, 16) at v[vo…] (AVX-512's width),
     * with the same bits, as vectors: at each level w = 8, 4, 2, 1, pairs of vectors merge into one, each row's
     * lane i added to its lane i + w (as treeSum adds them) and the two rows' sums side by side; after the last
     * level lane i holds the sum of the row whose number is i's 4 bits reversed. Adding each row's lanes one at
     * a time cost decoding 4–5% of its reading rate (the harness of {@link #dots}: 59–67 against 64–68 GB/s at a
     * bare read of 71–78); this is 15 merges for 16 rows. Written out, with no array of vectors: a vector
     * stored in an array is an object.
     */
    private static void treeSums16(float[] v, int vo, float[] out, int oo) {
        FloatVector r0 = FloatVector.fromArray(S, v, vo + 0 * L);
        FloatVector r1 = FloatVector.fromArray(S, v, vo + 1 * L);
        FloatVector r2 = FloatVector.fromArray(S, v, vo + 2 * L);
        FloatVector r3 = FloatVector.fromArray(S, v, vo + 3 * L);
        FloatVector r4 = FloatVector.fromArray(S, v, vo + 4 * L);
        FloatVector r5 = FloatVector.fromArray(S, v, vo + 5 * L);
        FloatVector r6 = FloatVector.fromArray(S, v, vo + 6 * L);
        FloatVector r7 = FloatVector.fromArray(S, v, vo + 7 * L);
        FloatVector r8 = FloatVector.fromArray(S, v, vo + 8 * L);
        FloatVector r9 = FloatVector.fromArray(S, v, vo + 9 * L);
        FloatVector r10 = FloatVector.fromArray(S, v, vo + 10 * L);
        FloatVector r11 = FloatVector.fromArray(S, v, vo + 11 * L);
        FloatVector r12 = FloatVector.fromArray(S, v, vo + 12 * L);
        FloatVector r13 = FloatVector.fromArray(S, v, vo + 13 * L);
        FloatVector r14 = FloatVector.fromArray(S, v, vo + 14 * L);
        FloatVector r15 = FloatVector.fromArray(S, v, vo + 15 * L);
        FloatVector s0 = LOW[0].selectFrom(r0, r1).add(HIGH[0].selectFrom(r0, r1));
        FloatVector s1 = LOW[0].selectFrom(r2, r3).add(HIGH[0].selectFrom(r2, r3));
        FloatVector s2 = LOW[0].selectFrom(r4, r5).add(HIGH[0].selectFrom(r4, r5));
        FloatVector s3 = LOW[0].selectFrom(r6, r7).add(HIGH[0].selectFrom(r6, r7));
        FloatVector s4 = LOW[0].selectFrom(r8, r9).add(HIGH[0].selectFrom(r8, r9));
        FloatVector s5 = LOW[0].selectFrom(r10, r11).add(HIGH[0].selectFrom(r10, r11));
        FloatVector s6 = LOW[0].selectFrom(r12, r13).add(HIGH[0].selectFrom(r12, r13));
        FloatVector s7 = LOW[0].selectFrom(r14, r15).add(HIGH[0].selectFrom(r14, r15));
        FloatVector t0 = LOW[1].selectFrom(s0, s1).add(HIGH[1].selectFrom(s0, s1));
        FloatVector t1 = LOW[1].selectFrom(s2, s3).add(HIGH[1].selectFrom(s2, s3));
        FloatVector t2 = LOW[1].selectFrom(s4, s5).add(HIGH[1].selectFrom(s4, s5));
        FloatVector t3 = LOW[1].selectFrom(s6, s7).add(HIGH[1].selectFrom(s6, s7));
        FloatVector u0 = LOW[2].selectFrom(t0, t1).add(HIGH[2].selectFrom(t0, t1));
        FloatVector u1 = LOW[2].selectFrom(t2, t3).add(HIGH[2].selectFrom(t2, t3));
        LOW[3].selectFrom(u0, u1).add(HIGH[3].selectFrom(u0, u1)).rearrange(LANE_OF_ROW).intoArray(out, oo);
    }

    /**
     * For merge level k (w = 8 >> k) of {@link #treeSums16}: lane i takes, from the pair (x, y) concatenated, x's
     * lanes i (LOW) and i + w (HIGH) where bit w of i is 0, else y's lanes i − w and i.
     */
    private static final FloatVector[] LOW = merges(false), HIGH = merges(true);
    /** Where row r's sum is in the last merge of {@link #treeSums16}: at lane r's 4 bits reversed (a bit reversal is its own inverse). */
    private static final VectorShuffle<Float> LANE_OF_ROW = VectorShuffle.fromOp(S, r -> L == 16 ? Integer.reverse(r) >>> 28 : r);

    private static FloatVector[] merges(boolean high) {
        FloatVector[] m = new FloatVector[4];
        float[] index = new float[L];
        for (int k = 0, w = 8; k < 4 && L == 16; k++, w /= 2) {
            for (int i = 0; i < L; i++) index[i] = (i & w) == 0 ? (high ? i + w : i) : (high ? L + i : L + i - w);
            m[k] = FloatVector.fromArray(S, index, 0);
        }
        return m;
    }

    /** Rows of {@link #dots} whose vectors wait in {@link #DOTS} for their lanes to be added: 4 KB of AVX-512 vectors, in L1. */
    private static final int DOTS_BLOCK = 64;
    private static final ThreadLocal<float[]> DOTS = ThreadLocal.withInitial(() -> new float[DOTS_BLOCK * L]);
    /** Each thread's copy of {@link #dots}' vector when it does not start at index 0, grown to the longest yet. */
    private static final ThreadLocal<float[]> DOTS_A = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The lanes added as a fixed tree written out here: lane i + lane i+L/2, then i + L/4, … down to
     * lane 0. reduceLanes(ADD) leaves its order to the implementation, which may differ between a
     * cold and a warm run and change the last bits; explicit shuffles cannot. Four shuffle-adds
     * instead of sixteen lane extractions: this sum ends every dot product of attention over the KV cache.
     */
    static float sum(FloatVector v) {
        for (VectorShuffle<Float> half : HALVES) v = v.add(v.rearrange(half));
        return v.lane(0);
    }

    /**
     * The calling thread's array of one vector's lanes: a loop that must sum a vector's lanes stores
     * them here and calls {@link #treeSum}, rather than pass the vector to {@link #sum}. A vector handed
     * to a method that the JIT did not inline (it inlines within a budget that large vector loops
     * spend) becomes an object, and the loop allocates.
     */
    public static float[] lanes() {
        return LANES.get();
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /** The lanes of {@link #lanes()} added as {@link #sum} adds a vector's: lane i + lane i+L/2, then i + L/4, … down to lane 0 (the array may be overwritten). */
    public static float treeSum(float[] lanes) {
        return treeSum(lanes, 0);
    }

    /** {@link #treeSum(float[])} of the vector's lanes at a[o…o+L). */
    static float treeSum(float[] a, int o) {
        if (L == 16) { // AVX-512's width, written out: the sums stay in registers rather than go through the array at every level
            float a0 = a[o] + a[o + 8], a1 = a[o + 1] + a[o + 9], a2 = a[o + 2] + a[o + 10], a3 = a[o + 3] + a[o + 11];
            float a4 = a[o + 4] + a[o + 12], a5 = a[o + 5] + a[o + 13], a6 = a[o + 6] + a[o + 14], a7 = a[o + 7] + a[o + 15];
            float b0 = a0 + a4, b1 = a1 + a5, b2 = a2 + a6, b3 = a3 + a7;
            return (b0 + b2) + (b1 + b3);
        }
        for (int w = L / 2; w >= 1; w /= 2) for (int i = 0; i < w; i++) a[o + i] += a[o + i + w];
        return a[o];
    }

    /** HALVES[j] moves lane i + w to lane i, for w = L/2, L/4, …, 1. */
    private static final VectorShuffle<Float>[] HALVES = halves();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        int n = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] h = new VectorShuffle[n];
        for (int j = 0, w = L / 2; w >= 1; j++, w /= 2) {
            int shift = w;
            h[j] = VectorShuffle.fromOp(S, i -> (i + shift) % L);
        }
        return h;
    }

    /** y[yo+i] += alpha·x[xo+i] for i in [0, n). */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]); // an FMA like the lanes: every element one chain of FMAs
    }

    /**
     * out[oo + c] = Σ_s w[wo + s]·v[vo + s·n + c] for c in [0, n), over s in [0, count): count rows of v
     * (n wide, one after another) weighted and added, as a chain of FMAs from 0 in s order for every
     * element: the bits of filling out with zeros and calling {@link #axpy}(w[wo + s], v, vo + s·n, out, oo, n)
     * for each s. Four vectors of out stay in registers down all the rows, where the axpys loaded and
     * stored out at every row: attention's weighted values over the KV cache (12 heads × 200 cold
     * positions of 64, one thread: 46–54 → 25 µs per layer).
     */
    public static void weightedRows(float[] w, int wo, float[] v, int vo, int n, int count, float[] out, int oo) {
        int c = 0;
        for (; c + 4 * L <= n; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int s = 0, i = vo + c; s < count; s++, i += n) {
                FloatVector ws = FloatVector.broadcast(S, w[wo + s]);
                a0 = FloatVector.fromArray(S, v, i).fma(ws, a0);
                a1 = FloatVector.fromArray(S, v, i + L).fma(ws, a1);
                a2 = FloatVector.fromArray(S, v, i + 2 * L).fma(ws, a2);
                a3 = FloatVector.fromArray(S, v, i + 3 * L).fma(ws, a3);
            }
            a0.intoArray(out, oo + c);
            a1.intoArray(out, oo + c + L);
            a2.intoArray(out, oo + c + 2 * L);
            a3.intoArray(out, oo + c + 3 * L);
        }
        for (; c + L <= n; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            for (int s = 0, i = vo + c; s < count; s++, i += n) a0 = FloatVector.fromArray(S, v, i).fma(FloatVector.broadcast(S, w[wo + s]), a0);
            a0.intoArray(out, oo + c);
        }
        for (; c < n; c++) {
            float a = 0f;
            for (int s = 0, i = vo + c; s < count; s++, i += n) a = Math.fma(w[wo + s], v[i], a);
            out[oo + c] = a;
        }
    }

    /**
     * Y[R, O] = X[R, I] · W[O, I]ᵀ (+ b[O] if b is not null). Y is overwritten. W is first copied
     * transposed into {@code wt} [I, O] (a 1/R share of the work), so that {@link #gemm} builds
     * every output row from contiguous multiply-adds with no horizontal sums.
     */
    public static void matmulForward(float[] y, float[] x, float[] w, float[] b, int rows, int in, int out, float[] wt) {
        transpose(w, wt, out, in);
        matmulTransposed(y, x, wt, b, rows, in, out);
    }

    /** Y[R, O] = X[R, I] · Wᵀ (+ b) with Wᵀ already laid out [I, O] ({@link #matmulForward}'s copy). */
    public static void matmulTransposed(float[] y, float[] x, float[] wt, float[] b, int rows, int in, int out) {
        gemm(y, x, in, 1, wt, b, false, rows, in, out);
    }

    /**
     * Y[R, N] = (or +=, if {@code accumulate}) X[R, K] · M[K, N] (+ b[N]), M row-major, X[r, k] at
     * {@code x[r·xRow + k·xCol]} (row-major: xRow = K, xCol = 1; read transposed: xRow = 1, xCol = the
     * row length of what X transposes, so dW = dYᵀ·X needs no transposed copy of dY): the one kernel
     * behind all three training products. Each element is the chain of FMAs
     * y ← fma(x[r, k], M[k, n], y) for k = 0, 1, …, starting from b, 0 or the old y, whatever the
     * tiling and the thread count. The rows are cut into blocks, a block per task, in a number the
     * threads share evenly; {@link #gemmBlock} does the rest. Only when there are too few row blocks
     * to keep every thread busy are the columns cut too.
     */
    static void gemm(float[] y, float[] x, int xRow, int xCol, float[] m, float[] b, boolean accumulate, int rows, int in, int out) {
        GemmTask g = GEMM.get();
        int threads = Parallel.threads();
        int least = (out > 8 * L ? 2 : 4) * threads; // M read in place (too narrow to pack, see gemmBlock): more, smaller tasks cost no copies and end together
        int rowBlocks = Math.max(1, Math.min((rows + 23) / 24, Math.max((rows + ROW_BLOCK - 1) / ROW_BLOCK, least)));
        if (rowBlocks > 1) rowBlocks = (rowBlocks + threads - 1) / threads * threads; // blocks the threads share evenly
        g.rowBlocks = rowBlocks;
        int panels = Math.max(1, Math.min(out / (4 * L), (2 * threads + g.rowBlocks - 1) / g.rowBlocks));
        g.panel = Math.max(1, panels == 1 ? out : ((out + panels - 1) / panels + 4 * L - 1) / (4 * L) * (4 * L));
        g.set(y, x, xRow, xCol, m, b, accumulate, rows, in, out);
        Parallel.forRange(((out + g.panel - 1) / g.panel) * g.rowBlocks, 1, g);
        g.set(null, null, 0, 0, null, null, false, 0, 0, 0); // keeps no array past the call
    }

    /** Rows of Y per task, at most: the tiles over one packed strip of M, so that packing it pays. */
    private static final int ROW_BLOCK = 240;

    /**
     * {@link #gemm}'s parallel region with its arguments in fields, one per calling thread, so that
     * a product allocates nothing (a lambda capturing them would be a new object at every call: a
     * training step makes hundreds of products).
     */
    private static final class GemmTask implements Parallel.RangeTask {
        float[] y, x, m, b;
        int xRow, xCol, rows, in, out, panel, rowBlocks;
        boolean accumulate;

        void set(float[] y, float[] x, int xRow, int xCol, float[] m, float[] b, boolean accumulate, int rows, int in, int out) {
            this.y = y;
            this.x = x;
            this.xRow = xRow;
            this.xCol = xCol;
            this.m = m;
            this.b = b;
            this.accumulate = accumulate;
            this.rows = rows;
            this.in = in;
            this.out = out;
        }

        /**
         * Where row block i starts: an even share of the rows, moved to the nearest whole 6-row tile. So the
         * threads' runs of blocks (see {@link Parallel#forRange}) hold equal rows, and the same rows as a
         * row-parallel region around the product: 1,026 and 1,022 of 2,048 rows, where whole blocks of 210 gave 1,050 and 998.
         */
        int rowEdge(int i) {
            return i >= rowBlocks ? rows : Math.min(rows, (int) (((long) rows * i / rowBlocks + 3) / 6 * 6));
        }

        @Override
        public void run(int t0, int t1) {
            for (int t = t0; t < t1; t++) {
                int o0 = (t / rowBlocks) * panel, o1 = Math.min(out, o0 + panel), r0 = rowEdge(t % rowBlocks), r1 = rowEdge(t % rowBlocks + 1);
                gemmBlock(y, 0, out, x, 0, xRow, xCol, m, 0, out, b, accumulate, r0, r1, o0, o1, 0, in);
            }
        }
    }

    private static final ThreadLocal<GemmTask> GEMM = ThreadLocal.withInitial(GemmTask::new);

    /**
     * Y[r, o] = (or +=, if {@code accumulate}) Σ_k X[r, k]·M[k, o] (+ b[o]) for r in [r0, r1), o in
     * [o0, o1) and k in [k0, k1), on the calling thread: {@link #gemm}'s tasks, and the blocks of a
     * product that only part of needs (attention's causal triangle). Y[r, o] is y[yOff + r·yRow + o],
     * X[r, k] is x[xOff + r·xRow + k·xCol], M[k, o] is m[mOff + k·mRow + o]. Without accumulate the
     * chains start from b (or 0): the first k block's tiles load their accumulators from b's columns
     * (or {@link #ZEROS}) in place of Y, so Y is not written before its sums are (a fill pass ahead of
     * the tiles cost small-t128's products 7–13%: every line of Y written twice, the first time cold).
     * Only the columns the tiles leave, and a block with no k at all, are filled first. Leaving out
     * terms that are exactly zero changes nothing.
     * <p>
     * k runs in blocks of {@link #DEPTH}. Within one, the columns go in strips of 4 vectors, and every
     * 6-row tile of the block takes its turn over a strip: the strip (DEPTH × 4 vectors, 16 KB) is
     * first copied contiguous, k-major (for blocks of {@link #PACK_ROWS} rows or more, when M's rows
     * are wider than two strips), so that all the tiles stream it from L1 and L2 in order
     * rather than through rows of M that are thousands of bytes apart (which also map to few cache
     * sets). The copy changes which array a value is read from, never the FMA chains.
     */
    public static void gemmBlock(float[] y, int yOff, int yRow, float[] x, int xOff, int xRow, int xCol, float[] m, int mOff, int mRow,
                                 float[] b, boolean accumulate, int r0, int r1, int o0, int o1, int k0, int k1) {
        if (o0 >= o1) return;
        // without accumulate the first k block's tiles start from b or 0; the columns under two vectors wide at the end
        // (their one-vector and lane kernels start from Y), or every column when there is no k, are filled here
        int tail = k1 > k0 ? o0 + (o1 - o0) / (2 * L) * (2 * L) : o0;
        if (!accumulate && tail < o1) {
            for (int r = r0; r < r1; r++) {
                int yo = yOff + r * yRow;
                if (b != null) System.arraycopy(b, tail, y, yo + tail, o1 - tail);
                else java.util.Arrays.fill(y, yo + tail, yo + o1, 0f);
            }
        }
        float[] pack = r1 - r0 >= PACK_ROWS && o1 - o0 >= 4 * L && mRow > 8 * L ? PACK.get() : null;
        for (int kb = k0; kb < k1; kb += DEPTH) { // k in blocks, in order: each element's chain stays in k order
            int ke = Math.min(k1, kb + DEPTH);
            boolean fresh = !accumulate && kb == k0; // the chains start from b or 0: Y holds nothing yet
            float[] st = fresh ? (b != null ? b : ZEROS) : y;
            int sRow = fresh ? 0 : yRow;
            int o = o0;
            for (; o + 4 * L <= o1; o += 4 * L) {
                float[] ms = m;
                int mo = mOff + o, mr = mRow;
                if (pack != null) {
                    ms = pack;
                    for (int k = kb, q = 0; k < ke; k++, q += 4 * L) System.arraycopy(m, mOff + k * mRow + o, ms, q, 4 * L);
                    mo = -kb * 4 * L;
                    mr = 4 * L;
                }
                int r = r0;
                for (; r + 6 <= r1; r += 6) block6x4(y, yOff + r * yRow + o, yRow, st, start(fresh, b, yOff + r * yRow, o), sRow, x, xOff + r * xRow, xRow, xCol, ms, mo, mr, kb, ke);
                for (; r + 4 <= r1; r += 4) {
                    block4x2(y, yOff + r * yRow + o, yRow, st, start(fresh, b, yOff + r * yRow, o), sRow, x, xOff + r * xRow, xRow, xCol, ms, mo, mr, kb, ke);
                    block4x2(y, yOff + r * yRow + o + 2 * L, yRow, st, start(fresh, b, yOff + r * yRow, o + 2 * L), sRow, x, xOff + r * xRow, xRow, xCol, ms, mo + 2 * L, mr, kb, ke);
                }
                for (; r < r1; r++) block1x4(y, yOff + r * yRow + o, st, start(fresh, b, yOff + r * yRow, o), x, xOff + r * xRow, xCol, ms, mo, mr, kb, ke);
            }
            for (; o + 2 * L <= o1; o += 2 * L) {
                int r = r0;
                for (; r + 6 <= r1; r += 6) block6x2(y, yOff + r * yRow + o, yRow, st, start(fresh, b, yOff + r * yRow, o), sRow, x, xOff + r * xRow, xRow, xCol, m, mOff + o, mRow, kb, ke);
                for (; r + 4 <= r1; r += 4) block4x2(y, yOff + r * yRow + o, yRow, st, start(fresh, b, yOff + r * yRow, o), sRow, x, xOff + r * xRow, xRow, xCol, m, mOff + o, mRow, kb, ke);
                for (; r < r1; r++) block1x2(y, yOff + r * yRow + o, st, start(fresh, b, yOff + r * yRow, o), x, xOff + r * xRow, xCol, m, mOff + o, mRow, kb, ke);
            }
            for (; o < o1; o += L) { // under two vectors of columns left (a prompt of 9–31 tokens is all this): one vector at a time
                int w = Math.min(L, o1 - o), r = r0;
                if (w == L) {
                    for (; r + 6 <= r1; r += 6) block6x1(y, yOff + r * yRow + o, yRow, y, yOff + r * yRow + o, yRow, x, xOff + r * xRow, xRow, xCol, m, mOff + o, mRow, kb, ke);
                } else if (r1 - r0 >= 6) {
                    // The last w < L columns go through copies a whole vector wide, so that no kernel needs a mask: M's
                    // columns padded with zeros, and each tile's 6 rows of Y. A masked kernel boxed every vector when C1
                    // failed to compile it ("out of virtual registers") and C2 never took over: 165 MB and 18 ms per call
                    // of the d384 head's forward under JMH, instead of 0 and ~0.7 ms. The FMA chains are the same.
                    float[] t = PACK.get();
                    for (int k = kb, q = 0; k < ke; k++, q += L) {
                        System.arraycopy(m, mOff + k * mRow + o, t, q, w);
                        java.util.Arrays.fill(t, q + w, q + L, 0f);
                    }
                    for (; r + 6 <= r1; r += 6) {
                        for (int i = 0; i < 6; i++) System.arraycopy(y, yOff + (r + i) * yRow + o, t, TILE_COPY + i * L, w);
                        block6x1(t, TILE_COPY, L, t, TILE_COPY, L, x, xOff + r * xRow, xRow, xCol, t, -kb * L, L, kb, ke);
                        for (int i = 0; i < 6; i++) System.arraycopy(t, TILE_COPY + i * L, y, yOff + (r + i) * yRow + o, w);
                    }
                }
                for (; r < r1; r++) lanes(y, yOff + r * yRow + o, x, xOff + r * xRow, xCol, m, mOff + o, mRow, kb, ke, w); // under 6 rows left
            }
        }
    }

    /**
     * Rows of M per pass (k-blocking): a strip of 64 × 4 vectors is 16 KB, a third of L1. Measured
     * end to end on the d384 and small-t128 recipes, 48–64 beat 128 by about 5% and 256 by 8%.
     */
    private static final int DEPTH = 64;

    /**
     * Rows of Y from which copying a strip of M pays for itself: attention's 24-query blocks, whose
     * keys are only a head deep and close together, ran 4% slower end to end with the copy. Nor is
     * M copied when its rows are at most two strips wide: they stream well as they are, and a
     * prompt's Xᵀ (128 tokens wide) would be copied again by every task (prefill 4% faster without).
     */
    private static final int PACK_ROWS = 48;
    /** Where a tile's chains start (see {@link #gemmBlock}): Y at its row yr and column o, or b's column o, or {@link #ZEROS}. */
    private static int start(boolean fresh, float[] b, int yr, int o) {
        return fresh ? (b != null ? o : 0) : yr + o;
    }

    /** A tile's starting values when there is no bias: 4 vectors of zeros, read by every row (a row stride of 0). */
    private static final float[] ZEROS = new float[4 * L];
    /** Each thread's copy of the strip of M being worked on (and, for the last columns, of a 6 × 1-vector tile of Y after it). */
    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[DEPTH * 4 * L]);
    /** Where the copy of a tile of Y for the last columns starts in {@link #PACK}: after DEPTH rows of one vector of M. */
    private static final int TILE_COPY = DEPTH * L;

    /**
     * One row of Y × 4 vectors, for the rows under four that the tiles leave (128 rows are 21 tiles and
     * 2 rows): the sums stay in registers over k, as in the tiles, with the same chains. An axpy per k
     * loaded and stored the row at every k, and the thread holding those 2 rows of a 128-row product
     * (a weight's gradient) took 16% longer than the other.
     */
    private static void block1x4(float[] y, int y0, float[] st, int s0, float[] x, int x0, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        FloatVector a0 = FloatVector.fromArray(S, st, s0), a1 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector a2 = FloatVector.fromArray(S, st, s0 + 2 * L), a3 = FloatVector.fromArray(S, st, s0 + 3 * L);
        for (int i = k0, wo = m0 + k0 * mRow, xk = x0 + k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector v = FloatVector.broadcast(S, x[xk]);
            a0 = FloatVector.fromArray(S, m, wo).fma(v, a0);
            a1 = FloatVector.fromArray(S, m, wo + L).fma(v, a1);
            a2 = FloatVector.fromArray(S, m, wo + 2 * L).fma(v, a2);
            a3 = FloatVector.fromArray(S, m, wo + 3 * L).fma(v, a3);
        }
        a0.intoArray(y, y0); a1.intoArray(y, y0 + L); a2.intoArray(y, y0 + 2 * L); a3.intoArray(y, y0 + 3 * L);
    }

    /** {@link #block1x4} two vectors wide. */
    private static void block1x2(float[] y, int y0, float[] st, int s0, float[] x, int x0, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        FloatVector a0 = FloatVector.fromArray(S, st, s0), a1 = FloatVector.fromArray(S, st, s0 + L);
        for (int i = k0, wo = m0 + k0 * mRow, xk = x0 + k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector v = FloatVector.broadcast(S, x[xk]);
            a0 = FloatVector.fromArray(S, m, wo).fma(v, a0);
            a1 = FloatVector.fromArray(S, m, wo + L).fma(v, a1);
        }
        a0.intoArray(y, y0); a1.intoArray(y, y0 + L);
    }

    /**
     * Y[r, 0…w) at y[yo…] over k in [k0, k1), an {@link #axpy} per k (under a vector wide: one lane at a time),
     * the same FMA chains as the tiles': for the rows under six of the columns under two vectors wide, where a
     * masked one-row vector kernel boxed its vectors in steady state (112 KB per d384 step).
     */
    private static void lanes(float[] y, int yo, float[] x, int xo, int xCol, float[] m, int mo, int mRow, int k0, int k1, int w) {
        for (int k = k0; k < k1; k++) axpy(x[xo + k * xCol], m, mo + k * mRow, y, yo, w);
    }

    /**
     * The main micro-kernel: a 6-row × 4-vector block of Y (at y[y0], rows yRow apart) stays in 24 of
     * the 32 vector registers for the whole sum over k: each k loads 4 vectors of M and broadcasts 6
     * values of X for 24 FMAs, and 24 independent chains hide the FMA latency (8 only just cover it).
     * Each element is still one chain of FMAs in k order, from st[s0…] (rows sRow apart): Y's own values, or, in a
     * product's first k block, b's columns or {@link #ZEROS} (a row stride of 0). Each micro-kernel is a method of its own:
     * the JIT compiles small methods with 24 live vectors reliably, one large one not always (C1
     * runs out of registers, and the loop then runs unvectorised).
     */
    private static void block6x4(float[] y, int y0, int yRow, float[] st, int s0, int sRow, float[] x, int x0, int xRow, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        int y1 = y0 + yRow, y2 = y1 + yRow, y3 = y2 + yRow, y4 = y3 + yRow, y5 = y4 + yRow;
        int s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow, s4 = s3 + sRow, s5 = s4 + sRow;
        int x1 = x0 + xRow, x2 = x1 + xRow, x3 = x2 + xRow, x4 = x3 + xRow, x5 = x4 + xRow;
        FloatVector a00 = FloatVector.fromArray(S, st, s0), a01 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector a02 = FloatVector.fromArray(S, st, s0 + 2 * L), a03 = FloatVector.fromArray(S, st, s0 + 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, st, s1), a11 = FloatVector.fromArray(S, st, s1 + L);
        FloatVector a12 = FloatVector.fromArray(S, st, s1 + 2 * L), a13 = FloatVector.fromArray(S, st, s1 + 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, st, s2), a21 = FloatVector.fromArray(S, st, s2 + L);
        FloatVector a22 = FloatVector.fromArray(S, st, s2 + 2 * L), a23 = FloatVector.fromArray(S, st, s2 + 3 * L);
        FloatVector a30 = FloatVector.fromArray(S, st, s3), a31 = FloatVector.fromArray(S, st, s3 + L);
        FloatVector a32 = FloatVector.fromArray(S, st, s3 + 2 * L), a33 = FloatVector.fromArray(S, st, s3 + 3 * L);
        FloatVector a40 = FloatVector.fromArray(S, st, s4), a41 = FloatVector.fromArray(S, st, s4 + L);
        FloatVector a42 = FloatVector.fromArray(S, st, s4 + 2 * L), a43 = FloatVector.fromArray(S, st, s4 + 3 * L);
        FloatVector a50 = FloatVector.fromArray(S, st, s5), a51 = FloatVector.fromArray(S, st, s5 + L);
        FloatVector a52 = FloatVector.fromArray(S, st, s5 + 2 * L), a53 = FloatVector.fromArray(S, st, s5 + 3 * L);
        for (int i = k0, wo = m0 + k0 * mRow, xk = k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector w0 = FloatVector.fromArray(S, m, wo), w1 = FloatVector.fromArray(S, m, wo + L);
            FloatVector w2 = FloatVector.fromArray(S, m, wo + 2 * L), w3 = FloatVector.fromArray(S, m, wo + 3 * L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + xk]);
            a00 = w0.fma(v, a00); a01 = w1.fma(v, a01); a02 = w2.fma(v, a02); a03 = w3.fma(v, a03);
            v = FloatVector.broadcast(S, x[x1 + xk]);
            a10 = w0.fma(v, a10); a11 = w1.fma(v, a11); a12 = w2.fma(v, a12); a13 = w3.fma(v, a13);
            v = FloatVector.broadcast(S, x[x2 + xk]);
            a20 = w0.fma(v, a20); a21 = w1.fma(v, a21); a22 = w2.fma(v, a22); a23 = w3.fma(v, a23);
            v = FloatVector.broadcast(S, x[x3 + xk]);
            a30 = w0.fma(v, a30); a31 = w1.fma(v, a31); a32 = w2.fma(v, a32); a33 = w3.fma(v, a33);
            v = FloatVector.broadcast(S, x[x4 + xk]);
            a40 = w0.fma(v, a40); a41 = w1.fma(v, a41); a42 = w2.fma(v, a42); a43 = w3.fma(v, a43);
            v = FloatVector.broadcast(S, x[x5 + xk]);
            a50 = w0.fma(v, a50); a51 = w1.fma(v, a51); a52 = w2.fma(v, a52); a53 = w3.fma(v, a53);
        }
        a00.intoArray(y, y0); a01.intoArray(y, y0 + L); a02.intoArray(y, y0 + 2 * L); a03.intoArray(y, y0 + 3 * L);
        a10.intoArray(y, y1); a11.intoArray(y, y1 + L); a12.intoArray(y, y1 + 2 * L); a13.intoArray(y, y1 + 3 * L);
        a20.intoArray(y, y2); a21.intoArray(y, y2 + L); a22.intoArray(y, y2 + 2 * L); a23.intoArray(y, y2 + 3 * L);
        a30.intoArray(y, y3); a31.intoArray(y, y3 + L); a32.intoArray(y, y3 + 2 * L); a33.intoArray(y, y3 + 3 * L);
        a40.intoArray(y, y4); a41.intoArray(y, y4 + L); a42.intoArray(y, y4 + 2 * L); a43.intoArray(y, y4 + 3 * L);
        a50.intoArray(y, y5); a51.intoArray(y, y5 + L); a52.intoArray(y, y5 + 2 * L); a53.intoArray(y, y5 + 3 * L);
    }

    /** A 6-row × 2-vector block (a head of 32 columns): 12 accumulators, as {@link #block6x4}. */
    private static void block6x2(float[] y, int y0, int yRow, float[] st, int s0, int sRow, float[] x, int x0, int xRow, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        int y1 = y0 + yRow, y2 = y1 + yRow, y3 = y2 + yRow, y4 = y3 + yRow, y5 = y4 + yRow;
        int s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow, s4 = s3 + sRow, s5 = s4 + sRow;
        int x1 = x0 + xRow, x2 = x1 + xRow, x3 = x2 + xRow, x4 = x3 + xRow, x5 = x4 + xRow;
        FloatVector a00 = FloatVector.fromArray(S, st, s0), a01 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector a10 = FloatVector.fromArray(S, st, s1), a11 = FloatVector.fromArray(S, st, s1 + L);
        FloatVector a20 = FloatVector.fromArray(S, st, s2), a21 = FloatVector.fromArray(S, st, s2 + L);
        FloatVector a30 = FloatVector.fromArray(S, st, s3), a31 = FloatVector.fromArray(S, st, s3 + L);
        FloatVector a40 = FloatVector.fromArray(S, st, s4), a41 = FloatVector.fromArray(S, st, s4 + L);
        FloatVector a50 = FloatVector.fromArray(S, st, s5), a51 = FloatVector.fromArray(S, st, s5 + L);
        for (int i = k0, wo = m0 + k0 * mRow, xk = k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector w0 = FloatVector.fromArray(S, m, wo), w1 = FloatVector.fromArray(S, m, wo + L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + xk]);
            a00 = w0.fma(v, a00); a01 = w1.fma(v, a01);
            v = FloatVector.broadcast(S, x[x1 + xk]);
            a10 = w0.fma(v, a10); a11 = w1.fma(v, a11);
            v = FloatVector.broadcast(S, x[x2 + xk]);
            a20 = w0.fma(v, a20); a21 = w1.fma(v, a21);
            v = FloatVector.broadcast(S, x[x3 + xk]);
            a30 = w0.fma(v, a30); a31 = w1.fma(v, a31);
            v = FloatVector.broadcast(S, x[x4 + xk]);
            a40 = w0.fma(v, a40); a41 = w1.fma(v, a41);
            v = FloatVector.broadcast(S, x[x5 + xk]);
            a50 = w0.fma(v, a50); a51 = w1.fma(v, a51);
        }
        a00.intoArray(y, y0); a01.intoArray(y, y0 + L); a10.intoArray(y, y1); a11.intoArray(y, y1 + L);
        a20.intoArray(y, y2); a21.intoArray(y, y2 + L); a30.intoArray(y, y3); a31.intoArray(y, y3 + L);
        a40.intoArray(y, y4); a41.intoArray(y, y4 + L); a50.intoArray(y, y5); a51.intoArray(y, y5 + L);
    }

    /** A 6-row × 1-vector block: the columns left of a product under two vectors wide (the last of them through copies, see {@link #gemmBlock}). */
    private static void block6x1(float[] y, int y0, int yRow, float[] st, int s0, int sRow, float[] x, int x0, int xRow, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        int y1 = y0 + yRow, y2 = y1 + yRow, y3 = y2 + yRow, y4 = y3 + yRow, y5 = y4 + yRow;
        int s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow, s4 = s3 + sRow, s5 = s4 + sRow;
        int x1 = x0 + xRow, x2 = x1 + xRow, x3 = x2 + xRow, x4 = x3 + xRow, x5 = x4 + xRow;
        FloatVector a0 = FloatVector.fromArray(S, st, s0), a1 = FloatVector.fromArray(S, st, s1), a2 = FloatVector.fromArray(S, st, s2);
        FloatVector a3 = FloatVector.fromArray(S, st, s3), a4 = FloatVector.fromArray(S, st, s4), a5 = FloatVector.fromArray(S, st, s5);
        for (int i = k0, wo = m0 + k0 * mRow, xk = k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector v = FloatVector.fromArray(S, m, wo);
            a0 = v.fma(FloatVector.broadcast(S, x[x0 + xk]), a0);
            a1 = v.fma(FloatVector.broadcast(S, x[x1 + xk]), a1);
            a2 = v.fma(FloatVector.broadcast(S, x[x2 + xk]), a2);
            a3 = v.fma(FloatVector.broadcast(S, x[x3 + xk]), a3);
            a4 = v.fma(FloatVector.broadcast(S, x[x4 + xk]), a4);
            a5 = v.fma(FloatVector.broadcast(S, x[x5 + xk]), a5);
        }
        a0.intoArray(y, y0); a1.intoArray(y, y1); a2.intoArray(y, y2);
        a3.intoArray(y, y3); a4.intoArray(y, y4); a5.intoArray(y, y5);
    }

    /** A 4-row × 2-vector block: 8 accumulators, for the rows a 6-row tile leaves. */
    private static void block4x2(float[] y, int y0, int yRow, float[] st, int s0, int sRow, float[] x, int x0, int xRow, int xCol, float[] m, int m0, int mRow, int k0, int k1) {
        int y1 = y0 + yRow, y2 = y1 + yRow, y3 = y2 + yRow;
        int s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow;
        int x1 = x0 + xRow, x2 = x1 + xRow, x3 = x2 + xRow;
        FloatVector a00 = FloatVector.fromArray(S, st, s0), a01 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector a10 = FloatVector.fromArray(S, st, s1), a11 = FloatVector.fromArray(S, st, s1 + L);
        FloatVector a20 = FloatVector.fromArray(S, st, s2), a21 = FloatVector.fromArray(S, st, s2 + L);
        FloatVector a30 = FloatVector.fromArray(S, st, s3), a31 = FloatVector.fromArray(S, st, s3 + L);
        for (int i = k0, wo = m0 + k0 * mRow, xk = k0 * xCol; i < k1; i++, wo += mRow, xk += xCol) {
            FloatVector w0 = FloatVector.fromArray(S, m, wo), w1 = FloatVector.fromArray(S, m, wo + L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + xk]);
            a00 = w0.fma(v, a00); a01 = w1.fma(v, a01);
            v = FloatVector.broadcast(S, x[x1 + xk]);
            a10 = w0.fma(v, a10); a11 = w1.fma(v, a11);
            v = FloatVector.broadcast(S, x[x2 + xk]);
            a20 = w0.fma(v, a20); a21 = w1.fma(v, a21);
            v = FloatVector.broadcast(S, x[x3 + xk]);
            a30 = w0.fma(v, a30); a31 = w1.fma(v, a31);
        }
        a00.intoArray(y, y0); a01.intoArray(y, y0 + L); a10.intoArray(y, y1); a11.intoArray(y, y1 + L);
        a20.intoArray(y, y2); a21.intoArray(y, y2 + L); a30.intoArray(y, y3); a31.intoArray(y, y3 + L);
    }

    /**
     * Columns in one strip of a packed weight ({@link #packPanels}): the width of the 6×4 and 1×4 tiles, whose
     * rows of M then lie one after another.
     */
    public static final int PANEL = 4 * L;

    /**
     * Packs W [out, in] (row-major, as PyTorch stores it) in place into the layout inference reads: Wᵀ cut into
     * strips of {@link #PANEL} columns, strip s (W's rows s·PANEL…) at s·PANEL·in as a row-major [in, width]
     * block (width PANEL, the last strip's out mod PANEL if that is not 0). Strip s takes the place its rows
     * held, so each strip is rearranged alone, through a copy of it. Y = X·Wᵀ then reads M = Wᵀ a strip at a
     * time, front to back: the tiles' rows of M are contiguous (the copy {@link #gemmBlock} makes of a
     * row-major M, made once), and decoding one token streams each strip in one pass, in order.
     */
    public static void packPanels(float[] w, int out, int in) {
        repack(w, out, in, true);
    }

    /** Undoes {@link #packPanels}: W [out, in] row-major again, in place. */
    public static void unpackPanels(float[] w, int out, int in) {
        repack(w, out, in, false);
    }

    private static void repack(float[] w, int out, int in, boolean pack) {
        if ((long) out * in > w.length) throw new IllegalArgumentException(out + " × " + in + " is more than the array's " + w.length + " values");
        Parallel.forRange((out + PANEL - 1) / PANEL, 1, (s0, s1) -> { // a rare event (loading, or leaving inference), so a lambda and a copy per chunk
            float[] t = new float[PANEL * in];
            for (int s = s0; s < s1; s++) {
                int base = s * PANEL * in, width = Math.min(PANEL, out - s * PANEL);
                System.arraycopy(w, base, t, 0, width * in);
                for (int r = 0; r < width; r++) {
                    for (int k = 0; k < in; k++) {
                        if (pack) w[base + k * width + r] = t[r * in + k];
                        else w[base + r * in + k] = t[k * width + r];
                    }
                }
            }
        });
    }

    /** Row o of W [out, in] packed by {@link #packPanels} (in values, a column of its strip), into dst[dOff…]. */
    public static void packedRow(float[] p, int out, int in, int o, float[] dst, int dOff) {
        int s = o / PANEL, width = Math.min(PANEL, out - s * PANEL), at = s * PANEL * in + o - s * PANEL;
        for (int k = 0; k < in; k++, at += width) dst[dOff + k] = p[at];
    }

    /**
     * Y[R, O] = X[R, I] · W[O, I]ᵀ (+ b) with W packed ({@link #packPanels}): inference's products, for a prompt
     * and for each decoded token alike, split over W's strips, each strip read once for all the rows. Every element
     * is the chain of FMAs from b (or 0) in k order, so the bits are those of the training forward
     * ({@link #matmulForward}) whatever the number of rows.
     */
    public static void matmulPanels(float[] y, float[] x, float[] p, float[] b, int rows, int in, int out) {
        StripsTask t = STRIPS.get();
        t.parts = 0;
        t.add(y, p, b, out);
        t.run(x, rows, in);
    }

    /**
     * {@link #matmulPanels} through up to three packed weights that read the same X (attention's q, k and v; an
     * MLP's gate and up) in one parallel region: the same bits as a call each, with one hand-over to the other
     * threads instead of three (decoding runs a hundred regions per token). A null y ends the list.
     */
    public static void matmulPanels(float[] x, int rows, int in, float[] y0, float[] p0, float[] b0, int out0,
                                    float[] y1, float[] p1, float[] b1, int out1, float[] y2, float[] p2, float[] b2, int out2) {
        StripsTask t = STRIPS.get();
        t.parts = 0;
        t.add(y0, p0, b0, out0);
        if (y1 != null) t.add(y1, p1, b1, out1);
        if (y2 != null) t.add(y2, p2, b2, out2);
        t.run(x, rows, in);
    }

    /**
     * {@link #matmulPanels}' region over strips, one per calling thread (as {@link GemmTask}): decoding a token
     * allocates nothing. Its range is the strips of all its products one after another; a chunk that spans two
     * products computes its part of each.
     */
    private static final class StripsTask implements Parallel.RangeTask {
        final float[][] y = new float[3][], p = new float[3][], b = new float[3][];
        final int[] out = new int[3], strips = new int[3];
        float[] x;
        int parts, rows, in;

        void add(float[] y, float[] p, float[] b, int out) {
            this.y[parts] = y;
            this.p[parts] = p;
            this.b[parts] = b;
            this.strips[parts] = (out + PANEL - 1) / PANEL;
            this.out[parts++] = out;
        }

        void run(float[] x, int rows, int in) {
            this.x = x;
            this.rows = rows;
            this.in = in;
            int total = 0;
            for (int q = 0; q < parts; q++) total += strips[q];
            Parallel.forRange(total, (int) Math.max(1, 65536 / Math.max(1L, (long) in * rows * PANEL)), this); // a chunk worth a hand-off to another thread
            this.x = null; // keeps no array past the call
            for (int q = 0; q < parts; q++) this.y[q] = this.p[q] = this.b[q] = null;
        }

        @Override
        public void run(int s0, int s1) {
            for (int q = 0, first = 0; q < parts && first < s1; first += strips[q++]) {
                int from = Math.max(s0, first) - first, to = Math.min(s1, first + strips[q]) - first;
                for (int s = from; s < to; s++) strip(y[q], p[q], b[q], out[q], s);
            }
        }

        /**
         * Strip s of one product, for every row. Under a tile's 6 rows (decoding), the strip streams through each row's
         * 4 accumulators over all of k, read once front to back (for one row: once from memory); a prompt's rows, and a
         * narrower last strip, go through {@link #gemmBlock}'s tiles.
         */
        private void strip(float[] y, float[] p, float[] b, int out, int s) {
            int o = s * PANEL, width = Math.min(PANEL, out - o), m0 = o * in - o; // M[k, c] at m0 + k·width + c
            if (width < PANEL || rows >= 6) {
                gemmBlock(y, 0, out, x, 0, in, 1, p, m0, width, b, false, 0, rows, o, o + width, 0, in);
                return;
            }
            for (int r = 0; r < rows; r++) block1x4(y, r * out + o, b != null ? b : ZEROS, b != null ? o : 0, x, r * in, 1, p, o * in, PANEL, 0, in);
        }
    }

    private static final ThreadLocal<StripsTask> STRIPS = ThreadLocal.withInitial(StripsTask::new);

    /** out[i] = a[i] + b[i] for i in [0, n) (out may be a or b), in parallel: a residual add over a whole batch. */
    public static void add(float[] out, float[] a, float[] b, int n) {
        ElementsTask t = ELEMENTS.get();
        t.set(out, a, b, 1f);
        Parallel.forRange(n, 32768, t);
        t.set(null, null, null, 0f);
    }

    /** a[i] *= s for i in [0, n), in parallel (gradient clipping over a large parameter). */
    public static void scale(float[] a, float s, int n) {
        ElementsTask t = ELEMENTS.get();
        t.set(a, a, null, s);
        Parallel.forRange(n, 32768, t);
        t.set(null, null, null, 0f);
    }

    /** {@link #add} and {@link #scale}'s parallel region, one per calling thread (as {@link GemmTask}): every element on its own. */
    private static final class ElementsTask implements Parallel.RangeTask {
        float[] out, a, b;
        float s;

        void set(float[] out, float[] a, float[] b, float s) {
            this.out = out;
            this.a = a;
            this.b = b;
            this.s = s;
        }

        @Override
        public void run(int from, int to) {
            float[] out = this.out, a = this.a, b = this.b;
            if (b != null) for (int i = from; i < to; i++) out[i] = a[i] + b[i];
            else for (int i = from; i < to; i++) out[i] = a[i] * s;
        }
    }

    private static final ThreadLocal<ElementsTask> ELEMENTS = ThreadLocal.withInitial(ElementsTask::new);

    /** dst[C, R] = src[R, C]ᵀ, in 32 × 32 blocks so both sides move whole cache lines; blocks of rows in parallel. */
    public static void transpose(float[] src, float[] dst, int rows, int cols) {
        TransposeTask t = TRANSPOSE.get();
        t.src = src;
        t.dst = dst;
        t.rows = rows;
        t.cols = cols;
        Parallel.forRange((rows + TransposeTask.B - 1) / TransposeTask.B, Math.max(1, 8192 / Math.max(1, TransposeTask.B * cols)), t); // 8k elements (~10 µs) a chunk: a 128 × 128 weight on two threads
        t.src = t.dst = null;
    }

    /** {@link #transpose}'s parallel region, one per calling thread (as {@link GemmTask}). */
    private static final class TransposeTask implements Parallel.RangeTask {
        static final int B = 32;
        float[] src, dst;
        int rows, cols;

        @Override
        public void run(int b0, int b1) {
            float[] src = this.src, dst = this.dst;
            int rows = this.rows, cols = this.cols;
            for (int r0 = b0 * B; r0 < Math.min(rows, b1 * B); r0 += B) {
                int r1 = Math.min(rows, r0 + B);
                for (int c0 = 0; c0 < cols; c0 += B) {
                    int c1 = Math.min(cols, c0 + B);
                    for (int r = r0; r < r1; r++) {
                        int so = r * cols;
                        for (int c = c0; c < c1; c++) dst[c * rows + r] = src[so + c];
                    }
                }
            }
        }
    }

    private static final ThreadLocal<TransposeTask> TRANSPOSE = ThreadLocal.withInitial(TransposeTask::new);

    /** dX[R, I] = dY[R, O] · W[O, I] (overwritten): W is already laid out [O, I], as {@link #gemm} wants its M. */
    public static void matmulBackwardInput(float[] dx, float[] dy, float[] w, int rows, int in, int out) {
        matmulBackwardInput(dx, dy, w, rows, in, out, false);
    }

    /** dX = dY · W, or dX += dY · W when {@code add}: each element's chain continues from what dX holds. */
    public static void matmulBackwardInput(float[] dx, float[] dy, float[] w, int rows, int in, int out, boolean add) {
        gemm(dx, dy, out, 1, w, null, add, rows, out, in);
    }

    /**
     * dW[O, I] += dY[R, O]ᵀ · X[R, I], and db[O] += Σ_r dY[r, O] if db is not null ({@code colSum} [O]
     * is its scratch). {@link #gemm} reads dY transposed in place, with X as its M: no copy of dY.
     */
    public static void matmulBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, int rows, int in, int out, float[] colSum) {
        gemm(dw, dy, 1, out, x, null, true, out, rows, in);
        if (db != null) columnSums(db, dy, rows, out, colSum);
    }

    /**
     * db[o] += Σ_r m[r, o] for m [R, O], each column summed in r order into {@code colSum} [O] first:
     * the same bits as one thread's loop, in parallel over ranges of columns.
     */
    public static void columnSums(float[] db, float[] m, int rows, int out, float[] colSum) {
        ColumnsTask t = COLUMNS.get();
        t.db = db;
        t.m = m;
        t.colSum = colSum;
        t.rows = rows;
        t.out = out;
        Parallel.forRange((out + 4 * L - 1) / (4 * L), 1, t); // blocks of 4 vectors of columns
        t.db = t.m = t.colSum = null;
    }

    /** {@link #columnSums}' parallel region, one per calling thread (as {@link GemmTask}). */
    private static final class ColumnsTask implements Parallel.RangeTask {
        float[] db, m, colSum;
        int rows, out;

        @Override
        public void run(int b0, int b1) {
            float[] db = this.db, m = this.m, colSum = this.colSum;
            int rows = this.rows, out = this.out, o0 = b0 * 4 * L, o1 = Math.min(out, b1 * 4 * L);
            int o = o0;
            for (; o + 4 * L <= o1; o += 4 * L) { // 4 vectors of columns summed in registers down all the rows
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int r = 0, i = o; r < rows; r++, i += out) {
                    s0 = s0.add(FloatVector.fromArray(S, m, i));
                    s1 = s1.add(FloatVector.fromArray(S, m, i + L));
                    s2 = s2.add(FloatVector.fromArray(S, m, i + 2 * L));
                    s3 = s3.add(FloatVector.fromArray(S, m, i + 3 * L));
                }
                s0.intoArray(colSum, o);
                s1.intoArray(colSum, o + L);
                s2.intoArray(colSum, o + 2 * L);
                s3.intoArray(colSum, o + 3 * L);
            }
            java.util.Arrays.fill(colSum, o, o1, 0f);
            for (int r = 0; r < rows; r++) for (int c = o; c < o1; c++) colSum[c] += m[r * out + c];
            for (int c = o0; c < o1; c++) db[c] += colSum[c];
        }
    }

    private static final ThreadLocal<ColumnsTask> COLUMNS = ThreadLocal.withInitial(ColumnsTask::new);
}
