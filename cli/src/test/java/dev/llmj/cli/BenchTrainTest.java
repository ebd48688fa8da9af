package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.model.ModelConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llmj bench train: its figures are present and consistent (never their values: benchmarks are not tests), and bad input is one line. */
class BenchTrainTest {
    @Test
    void reportsTheFiguresAsJson() {
        CliTest.Result r = CliTest.run("bench", "train", "--preset", "tiny", "--steps", "2", "--warmup", "1", "--warmup-seconds", "0",
                "--threads", "2", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> j = Json.obj(Json.parse(r.out().strip(), "bench"), "bench");
        for (String k : List.of("tokens_per_sec", "ms_per_step", "gflops", "peak_fraction", "peak_rss_mb", "flops_per_token", "loss_last")) {
            assertTrue(((Number) j.get(k)).doubleValue() > 0, k + " in " + r.out());
        }
        assertEquals(16 * 64, ((Number) j.get("tokens_per_step")).intValue());
        assertEquals(1, ((Number) j.get("warmup_steps")).intValue());
        double peak = ((Number) j.get("peak_gflops")).doubleValue(); // measured on this machine: any AVX-512 or AVX2 core does several GFLOPS
        assertTrue(peak > 2 && peak > ((Number) j.get("gflops")).doubleValue(), "peak " + peak + " in " + r.out());
        // tokens/s, GFLOPS and the peak fraction are one measurement in three units
        double tps = ((Number) j.get("tokens_per_sec")).doubleValue(), gflops = ((Number) j.get("gflops")).doubleValue();
        assertEquals(1024 / (((Number) j.get("ms_per_step")).doubleValue() / 1e3), tps, tps * 1e-3);
        assertEquals(((Number) j.get("flops_per_token")).doubleValue() * tps / 1e9, gflops, gflops * 1e-2 + 0.01);
        assertEquals(gflops / peak, ((Number) j.get("peak_fraction")).doubleValue(), 1e-3);
    }

    @Test
    void badInputIsOneLine() {
        CliTest.run("bench", "train", "--shape", "nope").isOneLineError("small-t128, d384");
        CliTest.run("bench", "train", "--preset", "nope").isOneLineError("tiny, small, gpt2-124m");
        CliTest.run("bench", "train", "--shape", "small").isOneLineError("--preset small");
        CliTest.run("bench", "train", "--preset", "tiny", "--steps", "0").isOneLineError("--steps must be at least 1");
        CliTest.run("bench", "train", "--preset", "tiny", "--batch-size", "0").isOneLineError("--batch-size must be at least 1");
        CliTest.run("bench", "train").isOneLineError("--preset");
        CliTest.run("bench", "train", "--preset", "tiny", "--shape", "d384").isOneLineError("--preset");
    }

    @Test
    void flopsCountTheMatrixProducts() {
        // nanoGPT's small Shakespeare model: 4 layers of 12·d² (q, k, v, o, and the 4d MLP) and the 65 × 128 tied head
        assertEquals(4L * 12 * 128 * 128 + 65 * 128, TrainBench.matmulWeights(ModelConfig.gpt2(65, 64, 128, 4, 4, 0f)));
        // a llama's SwiGLU has three matrices; grouped-query k and v are narrower; the head is untied
        ModelConfig llama = ModelConfig.llama(100, 32, 64, 2, 4, 2, 160);
        assertEquals(2L * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 160) + 100 * 64, TrainBench.matmulWeights(llama));
    }
}
