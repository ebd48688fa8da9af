package dev.llmj.nn;

import java.util.List;

/** A per-row normalisation: {@link LayerNorm} or {@link RmsNorm}. */
public sealed interface Norm permits LayerNorm, RmsNorm {
    /** [R, d] → [R, d]. */
    float[] forward(float[] x, int rows);

    /** The same normalisation into {@code y} [R, d], keeping nothing for a backward (inference). */
    float[] apply(float[] x, int rows, float[] y);

    /** dY → dX for the last forward, accumulating the parameters' gradients. */
    float[] backward(float[] dy);

    List<Param> params();

    /** Takes dX from {@code ws}'s {@link Workspace.Slot#NORM_DX}, shared with a model's other block norms (until then, its own). */
    void share(Workspace ws);

    /** {@code bias}: whether a LayerNorm has its additive bias (nanoGPT's bias=False drops it, as from the linear layers). */
    static Norm create(String kind, String name, int d, float eps, boolean bias) {
        return switch (kind) {
            case "layernorm" -> new LayerNorm(name, d, eps, bias);
            case "rmsnorm" -> new RmsNorm(name, d, eps);
            default -> throw new IllegalArgumentException("unknown norm " + kind);
        };
    }
}
