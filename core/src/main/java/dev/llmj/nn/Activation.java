package dev.llmj.nn;

/** The MLP's non-linearity. SWIGLU is the gated form silu(x·Wgate)·(x·Wup) that Llama uses. */
public enum Activation {
    GELU, RELU, SILU, SWIGLU;

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);

    /** f(x); GELU is the tanh form GPT-2 uses. SWIGLU's gate is SILU. */
    public float apply(float x) {
        return switch (this) {
            case GELU -> 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
            case RELU -> x > 0 ? x : 0f;
            case SILU, SWIGLU -> x / (1f + (float) Math.exp(-x));
        };
    }

    /** f′(x). */
    public float derivative(float x) {
        return switch (this) {
            case GELU -> {
                float u = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
                float t = (float) Math.tanh(u);
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * x * x);
            }
            case RELU -> x > 0 ? 1f : 0f;
            case SILU, SWIGLU -> {
                float s = 1f / (1f + (float) Math.exp(-x));
                yield s * (1f + x * (1f - s));
            }
        };
    }
}
