package dev.llmj.nn;

import dev.llmj.tensor.Parallel;

import java.util.ArrayList;
import java.util.List;

/**
 * The position-wise feed-forward network: d → hidden → d. Plain: proj(act(fc(x))). SwiGLU:
 * down(silu(gate(x)) · up(x)).
 */
public final class Mlp {
    public final Activation activation;
    public final Linear fc, proj;  // plain: fc = fc / gate, proj = proj / down
    public final Linear up;        // SwiGLU only
    private float[] pre, act, dact, hidden; // [R, h] each: fc(x), act(pre), act′(pre), act · up(x) (SwiGLU only): proj's input
    private Workspace ws = new Workspace(); // the backward's ∂L/∂pre and ∂L/∂up: shared within a model (share)
    private float[] upOut;
    private int rows;

    public Mlp(String name, int d, int hiddenDim, Activation act, boolean bias) {
        this.activation = act;
        if (act == Activation.SWIGLU) {
            fc = new Linear(name + ".gate", d, hiddenDim, bias);
            up = new Linear(name + ".up", d, hiddenDim, bias);
            proj = new Linear(name + ".down", hiddenDim, d, bias);
        } else {
            fc = new Linear(name + ".fc", d, hiddenDim, bias);
            up = null;
            proj = new Linear(name + ".proj", hiddenDim, d, bias);
        }
    }

    public float[] forward(float[] x, int rows) {
        int h = fc.out;
        if (up != null) hidden = Workspace.grow(hidden, rows * h);
        act = Workspace.grow(act, rows * h);
        dact = Workspace.grow(dact, rows * h);
        this.rows = rows;
        pre = fc.forward(x, rows);     // [R, h]
        upOut = up == null ? null : up.forward(x, rows);
        Parallel.forRange(rows * h, 16384, activate);
        return proj.forward(upOut != null ? hidden : act, rows);
    }

    /** The same into {@code y} [R, d], keeping nothing: inference, on the workspace's arrays. */
    public float[] forwardInference(float[] x, int rows, float[] y, Workspace ws) {
        int n = rows * fc.out;
        float[] pre = iPre = ws.get(Workspace.Slot.PRE, n);
        if (up == null) fc.forwardInference(x, rows, pre);
        else Linear.forwardInferenceShared(x, rows, fc, pre, up, iUp = ws.get(Workspace.Slot.UP, n), null, null);
        float[] a = iAct = ws.get(Workspace.Slot.ACT, n);
        Parallel.forRange(n, 16384, activateInference); // a prompt's rows on every thread
        iPre = iUp = iAct = null;
        return proj.forwardInference(a, rows, y);
    }

    public float[] backward(float[] dy) {
        int n = rows * fc.out;
        float[] dh = proj.backward(dy);                 // [R, h]
        float[] dpre = ws.get(Workspace.Slot.MLP_D_PRE, n), dup = up != null ? ws.get(Workspace.Slot.MLP_D_UP, n) : null;
        cDh = dh;
        cDpre = dpre;
        cDup = dup;
        Parallel.forRange(n, 16384, backElements);
        cDh = cDpre = cDup = null;
        float[] dx = fc.backward(dpre);
        if (up != null) up.backward(dup, dx, true); // x went into gate and up: their dX add up in one array
        return dx;
    }

    // the elementwise steps, in parallel over ranges of elements (each its own), bound once: no allocation per call
    private final Parallel.RangeTask activate = this::activate, backElements = this::backElements;
    private float[] cDh, cDpre, cDup;

    /** act = f(pre) and f′(pre); SwiGLU: hidden = act · up. */
    private void activate(int from, int to) {
        activation.forward(pre, act, dact, from, to);
        if (upOut != null) for (int i = from; i < to; i++) hidden[i] = act[i] * upOut[i];
    }

    // inference's arrays during a call (the workspace's: the training state above stays as it is)
    private float[] iPre, iUp, iAct;
    private final Parallel.RangeTask activateInference = this::activateInference;

    /** Inference: act = f(pre); SwiGLU: act · up, in place. */
    private void activateInference(int from, int to) {
        activation.forward(iPre, iAct, null, from, to); // no derivative: nothing will go backward
        if (iUp != null) for (int i = from; i < to; i++) iAct[i] *= iUp[i];
    }

    /** ∂L/∂pre (and SwiGLU's ∂L/∂up) from ∂L/∂hidden. */
    private void backElements(int from, int to) {
        float[] dh = cDh, dpre = cDpre, dup = cDup;
        for (int i = from; i < to; i++) {
            if (upOut != null) {
                dup[i] = dh[i] * act[i];
                dpre[i] = dh[i] * upOut[i] * dact[i];
            } else {
                dpre[i] = dh[i] * dact[i];
            }
        }
    }

    /** Shares the backward's arrays, and its linear layers', with a model's other blocks. */
    public void share(Workspace ws) {
        this.ws = ws;
        fc.share(ws, Workspace.Slot.MLP_DX);
        if (up != null) up.share(ws, null); // its dX goes into gate's
        proj.share(ws, Workspace.Slot.MLP_D_HIDDEN);
    }

    public List<Param> params() {
        List<Param> ps = new ArrayList<>(fc.params());
        if (up != null) ps.addAll(up.params());
        ps.addAll(proj.params());
        return ps;
    }
}
