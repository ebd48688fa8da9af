package dev.llmj.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The MLP's non-linearity. GELU is the tanh approximation GPT-2 uses; GELU_ERF the exact
 * x·Φ(x) that PyTorch's {@code nn.GELU()} and nanoGPT use. SWIGLU is the gated form
 * silu(x·Wgate)·(x·Wup) that Llama uses.
 */
public enum Activation {
    GELU, GELU_ERF, RELU, SILU, SWIGLU;

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);

    /**
     * out[i] = f(x[i]) and deriv[i] = f′(x[i]) for i in [0, n), in one pass, so the backward pass
     * only multiplies. GELU's tanh is a rational function of adds, multiplies and one divide
     * ({@link #rationalTanh}), on whole vectors: those operations round the same compiled or
     * interpreted, which the Vector API's TANH (an intrinsic with a different fallback) does not.
     */
    public void forward(float[] x, float[] out, float[] deriv, int n) {
        forward(x, out, deriv, 0, n);
    }

    /**
     * The same for i in [from, to): any split of a range gives the same values (each element is its own).
     * {@code deriv} may be null (inference): then only out is written.
     */
    public void forward(float[] x, float[] out, float[] deriv, int from, int to) {
        switch (this) {
            case GELU -> {
                int i = geluVector(x, out, deriv, from, to);
                for (; i < to; i++) { // the vector loop's operations in its order: an element gets the same bits in either
                    float v = x[i], c = SQRT_2_OVER_PI, a = 0.044715f;
                    float t = rationalTanh((v * v * a * v + v) * c);
                    float half = (t + 1f) * 0.5f;
                    out[i] = half * v;
                    if (deriv != null) deriv[i] = half + v * 0.5f * (-(t * t) + 1f) * c * (v * v * (3f * a) + 1f);
                }
            }
            case GELU_ERF -> {
                for (int i = from; i < to; i++) {
                    double v = x[i], g = Math.exp(-0.5 * v * v);    // e^{−x²/2}: shared by Φ's erfc and by φ
                    double p = phiGivenGauss(v, g);
                    out[i] = (float) (v * p);
                    if (deriv != null) deriv[i] = (float) (p + v * g * INV_SQRT_2PI);   // Φ(x) + x·φ(x)
                }
            }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    out[i] = x[i] > 0 ? x[i] : 0f;
                    if (deriv != null) deriv[i] = x[i] > 0 ? 1f : 0f;
                }
            }
            case SILU, SWIGLU -> {
                int i = siluVector(x, out, deriv, from, to);
                for (; i < to; i++) { // as GELU's tail: the vector loop's operations in its order
                    float v = x[i], sg = sigmoid(v);
                    out[i] = v * sg;
                    if (deriv != null) deriv[i] = sg * (v * (-sg + 1f) + 1f);
                }
            }
        }
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** tanh(u) ≈ u·P(u²)/Q(u²) on [−7.9053, 7.9053] (Eigen's float fit; error below 3.5e-7), ±1 beyond. */
    private static final float CLAMP = 7.90531110763549805f;
    private static final float A1 = 4.89352455891786e-03f, A3 = 6.37261928875436e-04f, A5 = 1.48572235717979e-05f,
            A7 = 5.12229709037114e-08f, A9 = -8.60467152213735e-11f, A11 = 2.00018790482477e-13f, A13 = -2.76076847742355e-16f;
    private static final float B0 = 4.89352518554385e-03f, B2 = 2.26843463243900e-03f, B4 = 1.18534705686654e-04f,
            B6 = 1.19825839466702e-06f;

    /** The scalar twin of the vector loop below: the same operations in the same order, so the same bits. */
    static float rationalTanh(float u) {
        float x = Math.max(-CLAMP, Math.min(CLAMP, u)), x2 = x * x;
        float p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x;
        float q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
        return p / q;
    }

    /** GELU-tanh over whole vectors from {@code from}; returns where the scalar loop takes over. */
    private static int geluVector(float[] x, float[] out, float[] deriv, int from, int to) {
        int i = from;
        float c = SQRT_2_OVER_PI, a = 0.044715f;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector u = v.mul(v).mul(a).mul(v).add(v).mul(c);                      // c·(x + a·x³)
            FloatVector z = u.min(CLAMP).max(-CLAMP), z2 = z.mul(z);
            FloatVector p = z2.mul(A13).add(A11).mul(z2).add(A9).mul(z2).add(A7).mul(z2).add(A5).mul(z2).add(A3).mul(z2).add(A1).mul(z);
            FloatVector q = z2.mul(B6).add(B4).mul(z2).add(B2).mul(z2).add(B0);
            FloatVector t = p.div(q);
            FloatVector half = t.add(1f).mul(0.5f);                                    // ½(1 + t)
            half.mul(v).intoArray(out, i);
            if (deriv == null) continue;
            FloatVector dt = v.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(c).mul(v.mul(v).mul(3f * a).add(1f)); // ½x(1 − t²)·c·(1 + 3a·x²)
            half.add(dt).intoArray(deriv, i);
        }
        return i;
    }

    /** SiLU over whole vectors from {@code from}: x·σ(x) and σ(x)·(1 + x·(1 − σ(x))); returns where the scalar loop takes over. */
    private static int siluVector(float[] x, float[] out, float[] deriv, int from, int to) {
        int i = from;
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector sg = one.div(exp(v.neg()).add(1f));
            v.mul(sg).intoArray(out, i);
            if (deriv != null) sg.mul(v.mul(sg.neg().add(1f)).add(1f)).intoArray(deriv, i);
        }
        return i;
    }

    /** σ(x) = 1 / (e^{−x} + 1) by {@link #exp(float)}: the vector loop's twin. */
    static float sigmoid(float x) {
        return 1f / (exp(-x) + 1f);
    }

    // e^x in float (Cephes' expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7 polynomial, times 2^n
    // made from its bits. n = round(x·log₂e) comes from adding 1.5·2²³ (MAGIC), whose float spacing is 1: the
    // sum's low bits are n, so there is no float–int conversion (Java's saturating one costs several
    // instructions a lane). FMAs, multiplies, compares and bit operations only, so the scalar twin and the
    // vector loop round alike, compiled or interpreted (the Vector API's EXP is an intrinsic that need not).
    private static final float EXP_HI = 88f, EXP_LO = -87.33654f, LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f,
            MAGIC = 12582912f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f,
            E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    /**
     * e^x within about 2 ulps for x in [−87.3, 88]; e^88 ≈ 1.7e38 above it, and exactly 0 below it
     * (where e^x is below the smallest normal float), so that e^−∞ is 0, as a masked softmax needs.
     */
    static float exp(float x) {
        if (x < EXP_LO) return 0f;
        if (x > EXP_HI) x = EXP_HI;
        float k = Math.fma(x, LOG2E, MAGIC), t = k - MAGIC;
        float r = Math.fma(t, -LN2_LO, Math.fma(t, -LN2_HI, x)), z = r * r;
        float y = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E0, E1), r, E2), r, E3), r, E4), r, E5);
        return (Math.fma(y, z, r) + 1f) * Float.intBitsToFloat((Float.floatToRawIntBits(k) + 127) << 23);
    }

    /** {@link #exp(float)} on every lane, by the same operations. */
    static FloatVector exp(FloatVector in) {
        FloatVector x = in.blend(EXP_HI, in.compare(VectorOperators.GT, EXP_HI));
        FloatVector k = x.fma(LOG2E, MAGIC), t = k.sub(MAGIC);
        FloatVector r = t.fma(in.broadcast(-LN2_LO), t.fma(in.broadcast(-LN2_HI), x)), z = r.mul(r);
        FloatVector y = r.fma(E0, E1).fma(r, in.broadcast(E2)).fma(r, in.broadcast(E3)).fma(r, in.broadcast(E4)).fma(r, in.broadcast(E5));
        FloatVector twoN = k.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.fma(z, r).add(1f).mul(twoN).blend(0f, in.compare(VectorOperators.LT, EXP_LO));
    }

    /** Φ(x), the standard normal CDF. */
    static double phi(double x) {
        return phiGivenGauss(x, Math.exp(-0.5 * x * x));
    }

    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /**
     * Φ(x) = ½·erfc(−x/√2) with erfc by Numerical Recipes' Chebyshev fit (fractional error below
     * 1.2e-7 everywhere). Via erfc rather than 1 + erf, Φ keeps its relative precision far into the
     * negative tail. g = e^{−x²/2} is erfc's own e^{−z²}, so forward needs two exps, not three.
     */
    private static double phiGivenGauss(double x, double g) {
        double t = 1.0 / (1.0 + 0.5 * Math.abs(x) * 0.7071067811865476);
        double r = t * g * Math.exp(-1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return 0.5 * (x <= 0 ? r : 2.0 - r);
    }

    /** f(x); GELU is the tanh form GPT-2 uses. SWIGLU's gate is SILU. */
    public float apply(float x) {
        return switch (this) {
            case GELU -> 0.5f * x * (1f + rationalTanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
            case GELU_ERF -> (float) (x * phi(x));
            case RELU -> x > 0 ? x : 0f;
            case SILU, SWIGLU -> x * sigmoid(x);
        };
    }

    /** f′(x). */
    public float derivative(float x) {
        return switch (this) {
            case GELU -> {
                float u = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
                float t = rationalTanh(u);
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * x * x);
            }
            case GELU_ERF -> (float) (phi(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI); // Φ(x) + x·φ(x)
            case RELU -> x > 0 ? 1f : 0f;
            case SILU, SWIGLU -> {
                float s = sigmoid(x);
                yield s * (x * (-s + 1f) + 1f);
            }
        };
    }
}
