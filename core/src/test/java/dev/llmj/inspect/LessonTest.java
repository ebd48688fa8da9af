package dev.llmj.inspect;

import dev.llmj.LlmjException;
import dev.llmj.tensor.Parallel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 猫 在 垫子 上 lesson learns what it says it learns, and says it the same way every time. */
class LessonTest {
    static final int STEPS = 100;
    /** One run serves the first two tests: it takes most of a second. */
    static final Lesson.Result RUN = Lesson.run(STEPS, 1337);

    @Test
    void probabilityRisesFromChanceTowardsOne() {
        Lesson.Result r = RUN;
        List<Lesson.Point> curve = r.curve();
        assertEquals(List.of(0, 1, 2, 5, 10, 20, 50, 100), curve.stream().map(Lesson.Point::step).toList());
        double chance = 1.0 / r.vocabSize();
        double first = curve.getFirst().p(), last = curve.getLast().p();
        assertTrue(first > chance / 2 && first < chance * 2, "an untrained model is near 1/V = " + chance + ": " + first);
        assertTrue(last > 0.9, "after " + STEPS + " steps 上 is nearly certain: " + last);
        int rises = 0;
        for (int i = 1; i < curve.size(); i++) if (curve.get(i).p() > curve.get(i - 1).p()) rises++;
        assertTrue(rises >= curve.size() - 2, "P rises at (nearly) every shown step: " + curve);
        for (Lesson.Point p : curve) assertEquals(-Math.log(p.p()), p.loss(), 1e-12);
        // the corpus loss approaches its floor: the place after 在 is one of 8, each equally right
        double floor = Math.log(8) / 4;
        assertTrue(curve.getLast().trainLoss() > floor - 1e-3 && curve.getLast().trainLoss() < floor + 0.05, curve.getLast().toString());
    }

    @Test
    void attentionRowsAreDistributionsAndTheBetsAreRight() {
        Lesson.Result r = RUN;
        assertEquals(List.of("猫", "在", "垫子"), r.promptWords());
        assertEquals(2, r.attention().length);
        for (double[][] layer : r.attention()) {
            assertEquals(2, layer.length);
            for (double[] row : layer) {
                double sum = 0;
                for (double a : row) {
                    assertTrue(a >= 0 && a <= 1, "a weight is a probability: " + a);
                    sum += a;
                }
                assertEquals(1.0, sum, 1e-5, "a softmax row sums to 1");
            }
        }
        assertEquals("上", r.afterPlace().getFirst().word());
        for (Lesson.Guess g : r.afterZai()) {
            assertTrue(Lesson.ON.contains(g.word()) || Lesson.IN.contains(g.word()), "after 在 comes a place: " + g);
            assertEquals(1.0 / 8, g.p(), 0.02, "each of the 8 places is as likely: " + g);
        }
    }

    @Test
    void theSameSeedGivesTheSameNumbersWhateverTheThreadCount() {
        int threads = Parallel.threads();
        String a = Lesson.json(Lesson.run(20, 42));
        try {
            Parallel.setThreads(threads == 1 ? 2 : 1);
            assertEquals(a, Lesson.json(Lesson.run(20, 42)));
        } finally {
            Parallel.setThreads(threads);
        }
        assertTrue(!a.equals(Lesson.json(Lesson.run(20, 43))), "another seed, other numbers");
        String text = Lesson.render(Lesson.run(20, 42));
        assertTrue(text.contains("P(上 | 猫 在 垫子)") && text.contains("layer 1 head 1"), text);
        assertThrows(LlmjException.class, () -> Lesson.run(0, 1));
    }
}
