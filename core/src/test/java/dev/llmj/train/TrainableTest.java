package dev.llmj.train;

import dev.llmj.model.Trainable;
import dev.llmj.data.BatchSource;
import dev.llmj.data.TrainingData;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.io.Safetensors;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training loop is not tied to DecoderLM: it trains, checkpoints and resumes a model of its own batch type. */
class TrainableTest {
    @TempDir
    Path dir;

    static final int K = 4;                                       // features
    static final float[] TRUE_W = {1f, -2f, 0.5f, 3f};
    static final float TRUE_B = 0.7f;

    /** n points: x [n, K] row-major, y [n]. */
    record Points(int n, float[] x, float[] y) {}

    /** y = w·x + b on uniform x in [−1, 1) plus a little noise; the validation stream draws from another seed. */
    static final class Stream implements BatchSource<Points> {
        final Rng rng;
        final Points batch;

        Stream(int n, long seed) {
            rng = new Rng(seed);
            batch = new Points(n, new float[n * K], new float[n]);
        }

        @Override
        public Points next() {
            for (int i = 0; i < batch.n(); i++) {
                float y = TRUE_B + 0.01f * (float) rng.nextGaussian();
                for (int k = 0; k < K; k++) {
                    float x = 2 * rng.nextFloat() - 1;
                    batch.x()[i * K + k] = x;
                    y += TRUE_W[k] * x;
                }
                batch.y()[i] = y;
            }
            return batch;
        }

        @Override
        public long state() {
            return rng.state();
        }

        @Override
        public void setState(long state) {
            rng.setState(state);
        }
    }

    static final TrainingData<Points> DATA = (validation, batchSize, seed) -> new Stream(batchSize, validation ? ~seed : seed);

    /**
     * Linear regression with inverted dropout on the inputs: pred = Σ w·x·mask/(1 − p) + b,
     * loss = mean (pred − y)². The dropout masks come from its generator, so resuming needs its state.
     */
    static final class Regression implements Trainable<Points> {
        static final float P = 0.25f;
        final Param w = new Param("w", true, K), b = new Param("b", false, 1);
        final Rng rng = new Rng(3);
        Points last;
        float[] kept = new float[0], residual = new float[0]; // [n, K] mask / (1 − p) (or 1), [n] pred − y

        @Override
        public List<Param> params() {
            return List.of(w, b);
        }

        @Override
        public long tokens(Points batch) {
            return batch.n();
        }

        @Override
        public float forwardLoss(Points batch, boolean training) {
            int n = batch.n();
            if (residual.length != n) {
                kept = new float[n * K];
                residual = new float[n];
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                float pred = b.value()[0];
                for (int k = 0; k < K; k++) {
                    kept[i * K + k] = !training ? 1f : rng.nextFloat() < P ? 0f : 1f / (1 - P);
                    pred += w.value()[k] * batch.x()[i * K + k] * kept[i * K + k];
                }
                residual[i] = pred - batch.y()[i];
                sum += (double) residual[i] * residual[i];
            }
            last = batch;
            return (float) (sum / n);
        }

        @Override
        public void backward() {
            int n = last.n();
            for (int i = 0; i < n; i++) {
                float g = 2 * residual[i] / n; // dL/dpred
                for (int k = 0; k < K; k++) w.grad()[k] += g * last.x()[i * K + k] * kept[i * K + k];
                b.grad()[0] += g;
            }
        }

        @Override
        public Rng rng() {
            return rng;
        }

        /** Only the weights file: the trainer needs nothing else of a model folder. */
        void save(Path d, Map<String, String> metadata) {
            Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
            for (Param p : params()) t.put(p.name, new Safetensors.Tensor(p.shape.clone(), p.value().clone()));
            Safetensors.write(d.resolve(ModelFolder.WEIGHTS), t, metadata);
        }

        static Regression load(Path d) {
            Regression m = new Regression();
            Map<String, Safetensors.Tensor> t = Safetensors.read(d.resolve(ModelFolder.WEIGHTS));
            for (Param p : m.params()) System.arraycopy(t.get(p.name).data(), 0, p.value(), 0, p.size());
            return m;
        }
    }

    private static TrainConfig config(int steps) {
        return new TrainConfig(steps, 8, 1, 2, 0.3f, 0.03f, 2, steps, 0.01f, 0.9f, 0.99f, 1e-8f, 1.0f, 3, 4, 4, 42, 0.1, false);
    }

    private static Trainer<Points> trainer(Regression m, TrainConfig cfg, Path out) {
        return new Trainer<>(m, m::save, cfg, DATA, out);
    }

    @Test
    void theBackwardIsTheLossGradient() { // finite differences in double, so the training below tests the loop, not the toy
        Regression m = new Regression();
        Points batch = new Stream(5, 9).next();
        for (Param p : m.params()) for (int i = 0; i < p.size(); i++) p.value()[i] = 0.3f * (i + 1) - 0.5f;
        m.zeroGrad();
        m.forwardLoss(batch, false);
        m.backward();
        for (Param p : m.params()) {
            for (int i = 0; i < p.size(); i++) {
                double h = 1e-3;
                float v = p.value()[i];
                p.value()[i] = (float) (v + h);
                double up = m.forwardLoss(batch, false);
                p.value()[i] = (float) (v - h);
                double down = m.forwardLoss(batch, false);
                p.value()[i] = v;
                assertEquals((up - down) / (2 * h), p.grad()[i], 2e-3, p.name + "[" + i + "]");
            }
        }
    }

    @Test
    void aModelThatIsNotADecoderTrainsAndResumesBitForBit() throws Exception {
        Path straight = dir.resolve("straight");
        Regression a = new Regression();
        Trainer<Points> t = trainer(a, config(24), straight);
        float before = t.evaluate(true);
        Map<String, Object> last = t.run(new Trainer.Listener() {});
        assertTrue((Double) last.get("val_loss") < before / 20, "val loss falls from " + before + " to " + last.get("val_loss"));

        Path interrupted = dir.resolve("interrupted");
        class Killed extends RuntimeException {}
        assertThrows(Killed.class, () -> trainer(new Regression(), config(24), interrupted).run(new Trainer.Listener() {
            @Override
            public void checkpoint(int step, Path d) {
                if (step == 8) throw new Killed(); // the process dies right after its step-8 checkpoint
            }
        }));
        Regression c = Regression.load(interrupted); // a new process: everything comes back from the folder
        Trainer<Points> resumed = trainer(c, Trainer.savedConfig(interrupted), interrupted);
        resumed.restore();
        assertEquals(8, resumed.step());
        resumed.run(new Trainer.Listener() {});

        for (int i = 0; i < a.params().size(); i++) assertArrayEquals(a.params().get(i).value(), c.params().get(i).value(), a.params().get(i).name);
        assertEquals(losses(straight), losses(interrupted), "the same evaluations, step for step");
    }

    @Test
    void aStepCountsTheTokensItsModelSaysItRead() { // tokens/s counts real tokens: a padded batch's padding is not work done
        Regression m = new Regression();
        TrainConfig cfg = config(3);
        TrainStep<Points> step = TrainStep.of(m, cfg);
        Stream points = new Stream(7, 1);
        for (int i = 0; i < 3; i++) assertTrue(step.run(points::next, 1e-2f));
        assertEquals(3L * cfg.gradAccum() * 7, step.tokens(), "3 steps of gradAccum micro-batches of 7 points");
    }

    /** Each log line's step, train and validation loss. */
    private static List<List<Object>> losses(Path d) throws Exception {
        List<List<Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(d.resolve(Trainer.LOG))) {
            Map<String, Object> r = Json.obj(Json.parse(line, "log"), "log");
            out.add(List.of(r.get("step"), r.get("train_loss"), r.get("val_loss")));
        }
        assertEquals(8, out.size(), "an evaluation every 3 steps");
        return out;
    }
}
