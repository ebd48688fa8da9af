package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The MLP's inference path (a prompt, or decoding a few rows) against its training forward. */
class MlpTest {

    @Test
    void inferenceGivesTheTrainingForwardsOutput() {
        // more than Linear.FEW_ROWS rows keep the hidden states transposed from gate/up to down: the same
        // FMA chains, so the same bits; a few rows take the matrix–vector kernel, the same to rounding
        Rng rng = new Rng(3);
        for (Activation act : new Activation[] {Activation.SWIGLU, Activation.GELU, Activation.RELU}) {
            Mlp mlp = new Mlp("m", 40, 72, act, act != Activation.SWIGLU);
            AttentionTest.randomize(mlp.params(), rng);
            for (int rows : new int[] {3, Linear.FEW_ROWS, Linear.FEW_ROWS + 1, 50}) {
                float[] x = AttentionTest.random(rng, rows * 40);
                float[] want = mlp.forward(x, rows).clone();
                float[] got = mlp.forwardInference(x, rows, new float[rows * 40], new Workspace());
                if (rows > Linear.FEW_ROWS) assertArrayEquals(want, got, act + ", " + rows + " rows");
                else assertArrayEquals(want, got, 1e-4f, act + ", " + rows + " rows");
            }
        }
    }
}
