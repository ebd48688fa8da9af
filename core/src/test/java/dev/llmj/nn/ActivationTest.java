package dev.llmj.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GELU-tanh's rational tanh against Math.tanh, SiLU's exp against Math.exp, and the vector loops against their scalar twins. */
class ActivationTest {
    @Test
    void rationalTanhIsWithinFourTenMillionthsOfTanh() {
        for (int k = -120_000; k <= 120_000; k++) {
            float u = k * 1e-4f;
            assertEquals(Math.tanh(u), Activation.rationalTanh(u), 4e-7, "u = " + u);
        }
        assertEquals(1f, Activation.rationalTanh(50f), 4e-7);
        assertEquals(-1f, Activation.rationalTanh(-50f), 4e-7);
    }

    @Test
    void expIsWithinTwoUlpsOfMathExpClampsAboveItsRangeAndIsZeroBelow() {
        for (int k = -873_000; k <= 880_000; k += 7) {
            float x = k * 1e-4f;
            double want = Math.exp(x);
            assertEquals(want, Activation.exp(x), 2.5e-7 * want, "e^" + x);
        }
        assertEquals(1f, Activation.exp(0f));
        assertEquals(Activation.exp(88f), Activation.exp(1000f));
        assertTrue(Activation.exp(-87.33654f) > 0f && Float.isFinite(Activation.exp(1000f)));
        assertEquals(0f, Activation.exp(-87.34f));                  // below the normal floats: 0, and e^−∞ too
        assertEquals(0f, Activation.exp(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Activation.exp(Float.NaN)));
    }

    @Test
    void siluAndItsDerivativeMatchTheirFormulaInDouble() {
        int n = 2000;
        float[] x = new float[n], out = new float[n], deriv = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i - n / 2) * 0.05f;          // −50 … 50: both tails
        for (Activation a : new Activation[] {Activation.SILU, Activation.SWIGLU}) {
            a.forward(x, out, deriv, n);
            for (int i = 0; i < n; i++) {
                double v = x[i], sg = 1 / (1 + Math.exp(-v));
                assertEquals(v * sg, out[i], 1e-6 * Math.max(1, Math.abs(v)), a + "(" + v + ")");
                assertEquals(sg * (1 + v * (1 - sg)), deriv[i], 1e-6 * Math.max(1, Math.abs(v)), a + "'(" + v + ")");
                assertEquals(Float.floatToIntBits(a.apply(x[i])), Float.floatToIntBits(out[i]), "apply agrees");
                assertEquals(Float.floatToIntBits(a.derivative(x[i])), Float.floatToIntBits(deriv[i]), "derivative agrees");
            }
        }
    }

    @Test
    void theVectorLoopGivesTheScalarTanhAndTheFormulaValues() {
        int n = 1000;
        float[] x = new float[n], out = new float[n], deriv = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i - n / 2) * 0.013f;
        Activation.GELU.forward(x, out, deriv, n);
        for (int i = 0; i < n; i++) {
            double v = x[i], t = Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v));
            assertEquals(0.5 * v * (1 + t), out[i], 2e-6, "gelu(" + v + ")");
            double d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * v * v);
            assertEquals(d, deriv[i], 5e-6, "gelu'(" + v + ")"); // past |u| = 7.9 tanh is ±1, so 1 − t² is 0, not 1e-7
            assertEquals(Activation.GELU.apply(x[i]), out[i], 2e-6, "apply agrees");
        }
    }

    @Test
    void anElementGetsTheSameBitsInTheVectorLoopAndTheScalarTail() {
        // training splits the elements into ranges per thread: which ones fall in a scalar tail must not matter
        int n = 997;
        float[] x = new float[n], out = new float[n], deriv = new float[n], one = new float[n], dOne = new float[n];
        dev.llmj.tensor.Rng r = new dev.llmj.tensor.Rng(3);
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 3);
        for (Activation a : Activation.values()) {
            a.forward(x, out, deriv, n);
            for (int i = 0; i < n; i++) a.forward(x, one, dOne, i, i + 1); // every element alone: the scalar path
            float[] noDeriv = new float[n];
            a.forward(x, noDeriv, null, n);                                  // inference asks for no derivative
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(out[i]), Float.floatToIntBits(noDeriv[i]), a + " without f' at " + x[i]);
                assertEquals(Float.floatToIntBits(out[i]), Float.floatToIntBits(one[i]), a + " at " + x[i]);
                assertEquals(Float.floatToIntBits(deriv[i]), Float.floatToIntBits(dOne[i]), a + "' at " + x[i]);
            }
        }
    }
}
