package dev.llmj.nn;

import dev.llmj.tensor.Rng;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused softmax, loss and gradient against the formulas in double, at vocabularies around the vector width and GPT-2's. */
class CrossEntropyTest {
    @Test
    void lossAndGradientMatchTheFormulasWithIgnoredRows() {
        int width = FloatVector.SPECIES_PREFERRED.length();
        Rng r = new Rng(5);
        for (int vocab : new int[] {1, 2, width - 1, width, width + 1, 2 * width + 3, 65, 50_257}) {
            int rows = vocab > 1000 ? 3 : 37;
            float[] logits = new float[rows * vocab];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 3);
            int[] labels = new int[rows];
            for (int i = 0; i < rows; i++) labels[i] = i % 5 == 1 ? CrossEntropy.IGNORE : (int) (r.nextDouble() * vocab);
            float[] dlogits = new float[rows * vocab], rowLoss = new float[rows];
            java.util.Arrays.fill(dlogits, Float.NaN); // every entry is written, ignored rows' too
            float loss = CrossEntropy.forwardBackward(logits, labels, rows, vocab, dlogits, rowLoss);

            int count = 0;
            double total = 0;
            for (int i = 0; i < rows; i++) {
                int o = i * vocab;
                if (labels[i] == CrossEntropy.IGNORE) {
                    assertEquals(0f, rowLoss[i]);
                    for (int j = 0; j < vocab; j++) assertEquals(0f, dlogits[o + j], "an ignored row's gradient");
                    continue;
                }
                count++;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < vocab; j++) max = Math.max(max, logits[o + j]);
                for (int j = 0; j < vocab; j++) sum += Math.exp(logits[o + j] - max);
                double want = Math.log(sum) - (logits[o + labels[i]] - max);
                assertEquals(want, rowLoss[i], 2e-6 * Math.max(1, want), "vocab " + vocab + " row " + i);
                total += want;
            }
            int n = count;
            assertEquals(total / n, loss, 2e-6 * Math.max(1, total / n), "vocab " + vocab);
            for (int i = 0; i < rows; i++) {
                if (labels[i] == CrossEntropy.IGNORE) continue;
                int o = i * vocab;
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < vocab; j++) max = Math.max(max, logits[o + j]);
                for (int j = 0; j < vocab; j++) sum += Math.exp(logits[o + j] - max);
                for (int j = 0; j < vocab; j++) {
                    double g = (Math.exp(logits[o + j] - max) / sum - (j == labels[i] ? 1 : 0)) / n;
                    // p − 1 in float for the label's logit: a few ulps of 1/n, however close p is to 1
                    assertEquals(g, dlogits[o + j], 3e-7 / n + 3e-6 * Math.abs(g), "vocab " + vocab + " row " + i + " logit " + j);
                }
            }
            float[] noGrad = new float[rows];
            assertEquals(loss, CrossEntropy.forwardBackward(logits, labels, rows, vocab, null, noGrad), "the loss without the gradient");
        }
    }

    @Test
    void badLabelsAreRefusedAndNoCountedRowGivesNaN() {
        float[] logits = {1f, 2f, 3f, 4f};
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardBackward(logits, new int[] {0, 2}, 2, 2, null, new float[2]));
        float loss = CrossEntropy.forwardBackward(logits, new int[] {CrossEntropy.IGNORE, CrossEntropy.IGNORE}, 2, 2, new float[4], new float[2]);
        assertTrue(Float.isNaN(loss));
    }
}
