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

    /**
     * Up to this many rows use the matrix–vector kernel (decoding), which computes each row alone;
     * more use the transposed-weight one, whose rounding differs in the last bits.
     */
    public static final int FEW_ROWS = 8;

    /** The training forward: x is kept for {@link #backward}, y is this layer's own. */
    public float[] forward(float[] x, int rows) {
        y = Workspace.grow(y, rows * out);
        this.rows = rows;
        this.x = x;
        float[] b = biasValue();
        if (rows <= FEW_ROWS) {
            Kernels.matmulRows(y, x, weight.value, b, rows, in, out);
            return y;
        }
        // Wᵀ made afresh: an optimizer step changes W between calls
        Kernels.matmulForward(y, x, weight.value, b, rows, in, out, ws.get(Workspace.Slot.W_T, in * out));
        return y;
    }

    /**
     * The forward of inference (the KV-cache path), into {@code y} [R, out], keeping nothing: the
     * same product, but without transposing W, which training does at every call: reading a prompt
     * computes Yᵀ = W·Xᵀ, transposing only the prompt's activations (in the workspace), so no
     * transposed copy of the weights is made or kept. Up to {@link #FEW_ROWS} rows take the same
     * kernel as training.
     */
    public float[] forwardInference(float[] x, int rows, float[] y, Workspace ws) {
        float[] b = biasValue();
        if (rows <= FEW_ROWS) Kernels.matmulRows(y, x, weight.value, b, rows, in, out);
        else Kernels.matmulWeightRows(y, x, weight.value, b, rows, in, out, ws.get(Workspace.Slot.X_T, rows * in), ws.get(Workspace.Slot.Y_T, rows * out));
        return y;
    }

    /**
     * {@link #forwardInference} of up to {@link #FEW_ROWS} rows through two or three layers that read
     * the same input (q, k and v; gate and up), in one parallel region: the same bits as one call
     * each, with one hand-over to the other threads instead of three (decoding runs a hundred regions
     * per token). {@code c} and {@code yc} may be null.
     */
    public static void forwardInferenceFew(float[] x, int rows, Linear a, float[] ya, Linear b, float[] yb, Linear c, float[] yc) {
        if (rows > FEW_ROWS || a.in != b.in || c != null && c.in != a.in) throw new IllegalArgumentException("a few rows through layers of one input width");
        Kernels.matmulRows(x, rows, a.in, ya, a.weight.value, a.biasValue(), a.out, yb, b.weight.value, b.biasValue(), b.out,
                yc, c == null ? null : c.weight.value, c == null ? null : c.biasValue(), c == null ? 0 : c.out);
    }

    private float[] biasValue() {
        return bias == null ? null : bias.value;
    }

    /**
     * Yᵀ [out, R] = W·Xᵀ (+ b) from Xᵀ in the workspace's {@code X_T} ({@link #transposeInput}), left
     * transposed in {@code yT}: for more than {@link #FEW_ROWS} rows whose output goes, through
     * elementwise steps only, into {@link #forwardInferenceFromTransposed}. The same bits as
     * {@link #forwardInferenceFromTransposed}, transposed.
     */
    public float[] forwardInferenceToTransposed(int rows, float[] yT, Workspace ws) {
        Kernels.matmulWeightRowsT(yT, ws.get(Workspace.Slot.X_T, rows * in), weight.value, biasValue(), rows, in, out);
        return yT;
    }

    /**
     * {@link #forwardInference} from Xᵀ [in, R] given (more than {@link #FEW_ROWS} rows), into y [R, out]:
     * layers that read the same input (a prompt's q, k and v) share one {@link #transposeInput}.
     */
    public float[] forwardInferenceFromTransposed(float[] xT, int rows, float[] y, Workspace ws) {
        Kernels.matmulWeightRowsTransposed(y, xT, weight.value, biasValue(), rows, in, out, ws.get(Workspace.Slot.Y_T, rows * out));
        return y;
    }

    /** Xᵀ [in, R] of a prompt's x [R, in] (more than {@link #FEW_ROWS} rows), into the workspace's {@code X_T}, which it returns. */
    public static float[] transposeInput(float[] x, int rows, int in, Workspace ws) {
        float[] xT = ws.get(Workspace.Slot.X_T, rows * in);
        Kernels.transpose(x, xT, rows, in);
        return xT;
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
        Kernels.matmulBackwardInput(dx, dy, weight.value, rows, in, out, add);
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
