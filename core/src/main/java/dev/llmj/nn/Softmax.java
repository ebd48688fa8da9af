package dev.llmj.nn;

import dev.llmj.tensor.Kernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention's row softmax and its backward, on whole vectors: a training step makes one per query
 * per head (B·H·T rows of up to T keys), so a scalar {@code Math.exp} per weight cost more than the
 * products around it. Cross-entropy's rows and the sampler's use {@link #max} and {@link #expAndSum}
 * too. A row's last, partial vector is a masked one (a causal row's length is
 * anything), the exponential is {@link Activation#exp(FloatVector)}, and sums run per lane and then
 * through a fixed tree of the lanes: the same bits compiled or interpreted, on any thread.
 * Each pass is a small method of its own, and no method here passes a vector to another but exp:
 * the JIT inlines within a budget of nodes that exp nearly spends, and a vector handed to a method
 * it did not inline becomes an object (megabytes of garbage a step, and slower).
 */
public final class Softmax {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private Softmax() {}

    /**
     * p[o…o+n) ← softmax(scale · p[o…o+n)) in place. Entries of −∞ (masked keys) get exactly 0.
     * When every entry is −∞ there is no distribution: p is left as it is, and false is returned.
     */
    static boolean row(float[] p, int o, int n, float scale) {
        float max = max(p, o, n);
        if (max == Float.NEGATIVE_INFINITY) return false;
        float sum = expAndSum(p, o, p, o, n, scale, max * scale);
        multiply(p, o, n, 1f / sum);
        return true;
    }

    /**
     * The max of p[o…o+n) (exact in any order; by compare and blend, which is one instruction, where max is several).
     * Times a scale above 0 it is the max of the scaled entries, bit for bit (rounding keeps order), so the
     * scale waits for {@link #expAndSum}'s pass and this one only reads.
     */
    public static float max(float[] p, int o, int n) {
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, p, o + i);
            vmax = vmax.blend(v, v.compare(VectorOperators.GT, vmax));
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, p, o + i, m);
            vmax = vmax.blend(v, v.compare(VectorOperators.GT, vmax, m));
        }
        return vmax.reduceLanes(VectorOperators.MAX);
    }

    /**
     * dst[d…d+n) ← e^(scale·src[s…s+n) − max) (dst may be src); returns their sum. One loop, masked only where it
     * ends, and the lanes summed from an array ({@link Kernels#treeSum}): with a second exp for the tail, or the
     * lanes added as vectors by a method, the JIT ran out of its inlining budget inside exp's many nodes, and every
     * vector became an object.
     */
    public static float expAndSum(float[] src, int s, float[] dst, int d, int n, float scale, float max) {
        FloatVector vsum = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector e = Activation.exp(FloatVector.fromArray(S, src, s + i, m).mul(scale).sub(max));
            e.intoArray(dst, d + i, m);
            vsum = vsum.add(e, m);
        }
        float[] lanes = Kernels.lanes();
        vsum.intoArray(lanes, 0);
        return Kernels.treeSum(lanes);
    }

    /** p ← c·p. */
    static void multiply(float[] p, int o, int n, float c) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) FloatVector.fromArray(S, p, o + i).mul(c).intoArray(p, o + i);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, p, o + i, m).mul(c).intoArray(p, o + i, m);
        }
    }

    /**
     * The softmax's backward for one row of weights p (at p[po…po+n)): g[go…go+n) holds ∂L/∂p and
     * becomes ∂L/∂(pre-softmax scores) times {@code scale}: p·(g − Σ p·g)·scale.
     */
    static void rowBackward(float[] p, int po, float[] g, int go, int n, float scale) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) acc = FloatVector.fromArray(S, p, po + i).fma(FloatVector.fromArray(S, g, go + i), acc);
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            acc = FloatVector.fromArray(S, p, po + i, m).fma(FloatVector.fromArray(S, g, go + i, m), acc); // masked lanes add 0·0
        }
        float[] lanes = Kernels.lanes();
        acc.intoArray(lanes, 0);
        backwardScale(p, po, g, go, n, Kernels.treeSum(lanes), scale);
    }

    private static void backwardScale(float[] p, int po, float[] g, int go, int n, float pg, float scale) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, p, po + i).mul(FloatVector.fromArray(S, g, go + i).sub(pg)).mul(scale).intoArray(g, go + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, p, po + i, m).mul(FloatVector.fromArray(S, g, go + i, m).sub(pg)).mul(scale).intoArray(g, go + i, m);
        }
    }
}
