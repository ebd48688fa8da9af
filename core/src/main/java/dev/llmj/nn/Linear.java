package dev.llmj.nn;

import dev.llmj.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

/** y = x·Wᵀ + b, with W stored [out, in] as in PyTorch. Forward keeps x for the backward pass. */
public final class Linear {
    public final int in, out;
    public final Param weight;   // [out, in]
    public final Param bias;     // [out] or null
    private float[] x;           // [R, in] — the input of the last forward (not a copy)
    private float[] y;           // [R, out]
    private Workspace ws = new Workspace();          // Wᵀ for the training forward, and dX: shared within a model (share)
    private Workspace.Slot dxSlot = Workspace.Slot.HEAD_DX;     // any slot while the workspace is the layer's own
    private float[] colSum;      // [out] — the bias gradient's scratch
    private int rows;

    public Linear(String name, int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = new Param(name + ".weight", true, out, in);
        this.bias = bias ? new Param(name + ".bias", false, out) : null;
    }

    private Linear(Param weight) {
        this.in = weight.shape[1];
        this.out = weight.shape[0];
        this.weight = weight;
        this.bias = null;
    }

    /** A linear map sharing another layer's weight [out, in] (the LM head tied to the token embedding). */
    public static Linear tied(Param weight) {
        return new Linear(weight);
    }

    /** The training forward: x is kept for {@link #backward}, y is this layer's own. */
    public float[] forward(float[] x, int rows) {
        y = Workspace.grow(y, rows * out);
        this.rows = rows;
        this.x = x;
        // Wᵀ made afresh: an optimizer step changes W between calls
        Kernels.matmulForward(y, x, weight.value(), biasValue(), rows, in, out, ws.get(Workspace.Slot.W_T, in * out));
        return y;
    }

    /**
     * The forward of inference (the KV-cache path), into {@code y} [R, out], keeping nothing. It reads the weight
     * packed in place ({@link Param#packed}: Wᵀ in strips, each streamed front to back), so no transposed copy is
     * made or kept; every output has the training forward's bits, for a prompt and a decoded token alike.
     */
    public float[] forwardInference(float[] x, int rows, float[] y) {
        Kernels.matmulPanels(y, x, weight.packed(), biasValue(), rows, in, out);
        return y;
    }

    /**
     * {@link #forwardInference} through two or three layers that read the same input (q, k and v; gate and up) in
     * one parallel region, with one hand-over to the other threads instead of three (decoding runs a hundred
     * regions per token), the same bits as a call each. {@code c} and {@code yc} may be null.
     */
    public static void forwardInferenceShared(float[] x, int rows, Linear a, float[] ya, Linear b, float[] yb, Linear c, float[] yc) {
        if (a.in != b.in || c != null && c.in != a.in) throw new IllegalArgumentException("layers of one input width");
        Kernels.matmulPanels(x, rows, a.in, ya, a.weight.packed(), a.biasValue(), a.out, yb, b.weight.packed(), b.biasValue(), b.out,
                yc, c == null ? null : c.weight.packed(), c == null ? null : c.biasValue(), c == null ? 0 : c.out);
    }

    private float[] biasValue() {
        return bias == null ? null : bias.value();
    }

    /** Accumulates dW (and db) and returns dX for the last forward's input. */
    public float[] backward(float[] dy) {
        if (dxSlot == null) throw new IllegalStateException("this layer's dX goes into its caller's array: backward(dy, dx, add)");
        return backward(dy, ws.get(dxSlot, rows * in), false); // only training needs it; overwritten
    }

    /**
     * Accumulates dW (and db), and writes dX for the last forward's input into {@code dx} [R, in], or adds it to what
     * dx holds ({@code add}): layers that read one input (attention's q, k and v; SwiGLU's gate and up) sum their dX
     * in one array, each element's chain of multiply-adds going on from the layer before, with no array and no pass
     * of adds per layer. Returns dx.
     */
    public float[] backward(float[] dy, float[] dx, boolean add) {
        Kernels.matmulBackwardInput(dx, dy, weight.value(), rows, in, out, add);
        if (colSum == null) colSum = new float[out];
        Kernels.matmulBackwardWeight(weight.grad(), bias == null ? null : bias.grad(), dy, x, rows, in, out, colSum);
        return dx;
    }

    /**
     * Takes the transposed weight and dX from {@code ws}, shared with the model's other layers, dX in
     * {@code dx} (a slot the caller reads before any other layer writes it; null for a layer whose caller always
     * hands it the array, {@link #backward(float[], float[], boolean)}). Until then the layer has a workspace of its own.
     */
    public void share(Workspace ws, Workspace.Slot dx) {
        this.ws = ws;
        this.dxSlot = dx;
    }

    public List<Param> params() {
        List<Param> ps = new ArrayList<>(2);
        ps.add(weight);
        if (bias != null) ps.add(bias);
        return ps;
    }
}
