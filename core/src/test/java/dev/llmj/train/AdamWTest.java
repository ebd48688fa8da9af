package dev.llmj.train;

import dev.llmj.nn.Param;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdamWTest {
    @Test
    void weightDecayReachesNormsBiasesAndEmbeddingsOnlyWhenAsked() {
        Param matrix = new Param("w", true, 2, 2), gain = new Param("norm.weight", false, 2);
        java.util.Arrays.fill(matrix.value(), 1f);
        java.util.Arrays.fill(gain.value(), 1f);
        new AdamW(List.of(matrix, gain), 0.9f, 0.99f, 1e-8f, 0.5f).step(0.1f); // zero gradients: only decay moves them
        assertEquals(0.95f, matrix.value()[0], 1e-7f);
        assertEquals(1f, gain.value()[0]);
        new AdamW(List.of(gain), 0.9f, 0.99f, 1e-8f, 0.5f, true).step(0.1f);
        assertEquals(0.95f, gain.value()[0], 1e-7f);
    }

    @Test
    void scheduleWarmsUpThenDecaysToTheFloor() {
        LrSchedule s = new LrSchedule(1e-3f, 1e-4f, 100, 2000);
        assertEquals(1e-3f / 101, s.at(0), 1e-9f);
        assertEquals(1e-3f * 100 / 101, s.at(99), 1e-9f);
        assertEquals(1e-3f, s.at(100), 1e-9f);
        assertEquals((1e-3f + 1e-4f) / 2, s.at(1050), 1e-7f);
        assertEquals(1e-4f, s.at(2000), 1e-9f);
        assertEquals(1e-4f, s.at(5000), 1e-9f);
    }
}
