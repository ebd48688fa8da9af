package dev.llmj.nn;

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
     * only multiplies. tanh comes from one exp, about twice as fast as Math.tanh. (Not the Vector
     * API's TANH: its compiled intrinsic and its interpreted fallback round differently, so results
     * would change between a cold and a warm run.)
     */
    public void forward(float[] x, float[] out, float[] deriv, int n) {
        switch (this) {
            case GELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    float t = tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v));
                    out[i] = 0.5f * v * (1f + t);
                    deriv[i] = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
                }
            }
            case GELU_ERF -> {
                for (int i = 0; i < n; i++) {
                    double v = x[i], g = Math.exp(-0.5 * v * v);    // e^{−x²/2}: shared by Φ's erfc and by φ
                    double p = phiGivenGauss(v, g);
                    out[i] = (float) (v * p);
                    deriv[i] = (float) (p + v * g * INV_SQRT_2PI);   // Φ(x) + x·φ(x)
                }
            }
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    out[i] = x[i] > 0 ? x[i] : 0f;
                    deriv[i] = x[i] > 0 ? 1f : 0f;
                }
            }
            case SILU, SWIGLU -> {
                for (int i = 0; i < n; i++) {
                    float v = x[i], sg = (float) (1.0 / (1.0 + Math.exp(-v)));
                    out[i] = v * sg;
                    deriv[i] = sg * (1f + v * (1f - sg));
                }
            }
        }
    }

    /** tanh(u) = 1 − 2/(e^{2u} + 1), in double so small u keep their precision. */
    static float tanh(float u) {
        double e = Math.exp(2.0 * u);
        return (float) (1.0 - 2.0 / (e + 1.0));
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
            case GELU -> 0.5f * x * (1f + tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
            case GELU_ERF -> (float) (x * phi(x));
            case RELU -> x > 0 ? x : 0f;
            case SILU, SWIGLU -> x / (1f + (float) Math.exp(-x));
        };
    }

    /** f′(x). */
    public float derivative(float x) {
        return switch (this) {
            case GELU -> {
                float u = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
                float t = tanh(u);
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * x * x);
            }
            case GELU_ERF -> (float) (phi(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI); // Φ(x) + x·φ(x)
            case RELU -> x > 0 ? 1f : 0f;
            case SILU, SWIGLU -> {
                float s = 1f / (1f + (float) Math.exp(-x));
                yield s * (1f + x * (1f - s));
            }
        };
    }
}
