package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The MLP's inference path (a prompt, or decoding a few rows) against its training forward. */
class MlpTest {

    @Test
    void inferenceGivesTheTrainingForwardsOutput() {
        // inference reads the weights packed (Kernels.packPanels), a few rows one strip at a time and more through
        // the tiles: the training forward's FMA chains either way, so its bits
        Rng rng = new Rng(3);
        for (Activation act : new Activation[] {Activation.SWIGLU, Activation.GELU, Activation.RELU}) {
            Mlp mlp = new Mlp("m", 40, 72, act, act != Activation.SWIGLU);
            AttentionTest.randomize(mlp.params(), rng);
            for (int rows : new int[] {1, 3, 6, 9, 50}) { // under a tile, a tile and a row, more
                float[] x = AttentionTest.random(rng, rows * 40);
                float[] want = mlp.forward(x, rows).clone();
                float[] got = mlp.forwardInference(x, rows, new float[rows * 40], new Workspace());
                assertArrayEquals(want, got, act + ", " + rows + " rows");
            }
        }
    }
}
