package dev.llmj.train;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import dev.llmj.data.Batcher;
import dev.llmj.data.TokenFile;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir
    Path dir;

    static final String TEXT = TestData.shakespeare().substring(0, 60_000);

    private TokenFile.Slice[] data(Tokenizer tok) {
        Path f = dir.resolve("data.tokens");
        TokenFile.write(f, tok, List.of(TEXT), 0);
        return TokenFile.open(f).split(0.1);
    }

    private static TrainConfig config(int steps) {
        return new TrainConfig(steps, 4, 16, 2, 3e-3f, 3e-4f, 2, steps, 0.1f, 0.9f, 0.99f, 1e-8f, 1.0f, 3, 2, 4, 42, 0.1, false);
    }

    private static ModelConfig model(Tokenizer tok) {
        return ModelConfig.gpt2(tok.vocabSize(), 16, 16, 2, 2, 0.1f); // dropout on: its generator must resume too
    }

    @Test
    void gradNormAndClippingMatchTheDoubleSumAndPyTorchsRule() {
        Param a = new Param("a", true, 100_003), b = new Param("b", false, 7); // a tail past the 8 chains, and a parameter shorter than them
        dev.llmj.tensor.Rng r = new dev.llmj.tensor.Rng(9);
        double sq = 0;
        for (Param p : List.of(a, b)) {
            for (int i = 0; i < p.size(); i++) {
                p.grad()[i] = (float) r.nextGaussian();
                sq += (double) p.grad()[i] * p.grad()[i];
            }
        }
        float norm = (float) Math.sqrt(sq);
        assertEquals(norm, Trainer.gradNorm(List.of(a, b)), 1e-6f * norm);
        float[] ga = a.grad().clone(), gb = b.grad().clone();
        assertEquals(Trainer.gradNorm(List.of(a, b)), Trainer.clipGradNorm(List.of(a, b), 2f), "returns the norm before clipping");
        float coef = 2f / (norm + 1e-6f);
        for (int i = 0; i < ga.length; i++) assertEquals(ga[i] * coef, a.grad()[i], 1e-7f * Math.abs(ga[i]) + 1e-12f);
        for (int i = 0; i < gb.length; i++) assertEquals(gb[i] * coef, b.grad()[i], 1e-7f * Math.abs(gb[i]) + 1e-12f);
        assertEquals(2f, Trainer.gradNorm(List.of(a, b)), 1e-5f, "clipped to the bound");
        float[] kept = a.grad().clone();
        Trainer.clipGradNorm(List.of(a, b), 100f); // under the bound: untouched
        assertArrayEquals(kept, a.grad());
    }

    @Test
    void aResumedRunEndsWithTheSameWeightsBitForBit() {
        Tokenizer tok = CharTokenizer.build(TEXT, List.of());
        TokenFile.Slice[] split = data(tok);

        Path straight = dir.resolve("straight");
        DecoderLM a = new DecoderLM(model(tok), 7);
        Trainer.of(a, tok, config(10), split[0], split[1], straight).run(new Trainer.Listener() {});

        Path interrupted = dir.resolve("interrupted");
        DecoderLM b = new DecoderLM(model(tok), 7);
        class Killed extends RuntimeException {}
        assertThrows(Killed.class, () -> Trainer.of(b, tok, config(10), split[0], split[1], interrupted).run(new Trainer.Listener() {
            @Override
            public void checkpoint(int step, Path d) {
                if (step == 4) throw new Killed(); // the process dies right after its step-4 checkpoint
            }
        }));
        // a new process: everything comes back from the folder
        DecoderLM c = ModelFolder.load(interrupted).model();
        Trainer<Batcher.Batch> resumed = Trainer.of(c, tok, Trainer.savedConfig(interrupted), split[0], split[1], interrupted);
        resumed.restore();
        assertEquals(4, resumed.step());
        resumed.run(new Trainer.Listener() {});

        List<Param> pa = a.params(), pc = c.params();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).value(), pc.get(i).value(), pa.get(i).name);
    }

    @Test
    void trainingLowersTheLossAndWritesTheLogAndFolder() throws Exception {
        Tokenizer tok = CharTokenizer.build(TEXT, List.of());
        TokenFile.Slice[] split = data(tok);
        DecoderLM m = new DecoderLM(model(tok), 1);
        Path out = dir.resolve("m");
        Trainer<Batcher.Batch> t = Trainer.of(m, tok, config(30), split[0], split[1], out);
        float before = t.evaluate(true);
        Map<String, Object> last = t.run(new Trainer.Listener() {});
        assertTrue((Double) last.get("val_loss") < before - 0.3, "val loss falls from " + before + " to " + last.get("val_loss"));
        List<String> lines = Files.readAllLines(out.resolve(Trainer.LOG));
        assertEquals(10, lines.size(), "an evaluation every 3 steps");
        Map<String, Object> rec = Json.obj(Json.parse(lines.get(9), "log"), "log");
        assertEquals(List.of("step", "train_loss", "val_loss", "lr", "tokens_per_sec", "elapsed_s"), List.copyOf(rec.keySet()));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "generation_config.json", "optimizer.safetensors", "trainer_state.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        // the folder loads back to the same function
        DecoderLM back = ModelFolder.load(out).model();
        int[] ids = tok.encode("ROMEO:\nWhat");
        int n = ids.length * m.config.vocabSize(); // the model's logits array is longer after training's larger batches
        assertArrayEquals(Arrays.copyOf(m.forward(ids, 1, ids.length, false), n), Arrays.copyOf(back.forward(ids, 1, ids.length, false), n));
    }

    @Test
    void aCheckpointHalfWrittenIsRefused() throws Exception {
        Tokenizer tok = CharTokenizer.build(TEXT, List.of());
        TokenFile.Slice[] split = data(tok);
        Path out = dir.resolve("half");
        DecoderLM m = new DecoderLM(model(tok), 1);
        Trainer.of(m, tok, config(4), split[0], split[1], out).run(new Trainer.Listener() {});
        // weights from another run written over this checkpoint's
        ModelFolder.save(new DecoderLM(model(tok), 99), tok, out, Map.of("checkpoint", "0", "step", "4"));
        Trainer<Batcher.Batch> t = Trainer.of(ModelFolder.load(out).model(), tok, config(8), split[0], split[1], out);
        LlmjException e = assertThrows(LlmjException.class, t::restore);
        assertTrue(e.getMessage().contains("model.safetensors is not from the same checkpoint"), e.getMessage());
    }

    @Test
    void aCrashWhileMovingACheckpointIntoPlaceIsFinishedOnResume() throws Exception {
        Tokenizer tok = CharTokenizer.build(TEXT, List.of());
        TokenFile.Slice[] split = data(tok);
        Path out = dir.resolve("moving"), later = dir.resolve("later");
        Trainer.of(new DecoderLM(model(tok), 1), tok, config(4), split[0], split[1], out).run(new Trainer.Listener() {}); // step 4
        // a complete step-8 checkpoint elsewhere, staged into out/.checkpoint with its weights already moved
        DecoderLM m8 = new DecoderLM(model(tok), 1);
        Trainer.of(m8, tok, config(8), split[0], split[1], later).run(new Trainer.Listener() {});
        Path stage = Files.createDirectories(out.resolve(".checkpoint"));
        for (String f : List.of("tokenizer.json", "generation_config.json", "config.json", "optimizer.safetensors", "trainer_state.json")) {
            Files.copy(later.resolve(f), stage.resolve(f));
        }
        Files.copy(later.resolve("model.safetensors"), out.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Trainer.recover(out);
        assertTrue(!Files.exists(stage));
        Trainer<Batcher.Batch> t = Trainer.of(ModelFolder.load(out).model(), tok, Trainer.savedConfig(out), split[0], split[1], out);
        t.restore();
        assertEquals(8, t.step());
    }

    @Test
    void aNaNLossStopsWithAClearMessageAndKeepsTheCheckpoint() throws Exception {
        Tokenizer tok = CharTokenizer.build(TEXT, List.of());
        TokenFile.Slice[] split = data(tok);
        DecoderLM m = new DecoderLM(model(tok), 1);
        Path out = dir.resolve("nan");
        Trainer.of(m, tok, config(4), split[0], split[1], out).run(new Trainer.Listener() {});
        byte[] good = Files.readAllBytes(out.resolve("model.safetensors"));
        m.params().get(0).value()[0] = Float.NaN; // poison the embedding: the next loss is NaN
        TrainConfig more = config(8);
        Trainer<Batcher.Batch> t = Trainer.of(m, tok, more, split[0], split[1], out);
        LlmjException e = assertThrows(LlmjException.class, () -> t.run(new Trainer.Listener() {}));
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("intact"), e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(out.resolve("model.safetensors")));
    }
}
