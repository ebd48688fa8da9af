package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** llmj generate and llmj bench generate as a user runs them, on a small random-weight model. */
class GenerateTest {
    @TempDir
    static Path shared;

    static Path model;

    @BeforeAll
    static void saveAModel() throws Exception {
        Tokenizer tok = CharTokenizer.build(Files.readString(CliTestData.shakespeare()), List.of(SpecialTokens.Role.EOS));
        DecoderLM m = new DecoderLM(ModelConfig.gpt2(tok.vocabSize(), 32, 16, 2, 2, 0f), 7);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 10f;
        model = shared.resolve("model");
        ModelFolder.save(m, tok, model);
    }

    static CliTest.Result generate(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "generate";
        all[1] = "--model";
        all[2] = model.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return CliTest.run(all);
    }

    @Test
    void printsThePromptAndItsContinuationRepeatably() {
        CliTest.Result a = generate("--prompt", "ROMEO:", "--max-tokens", "20", "--seed", "3");
        assertEquals(0, a.status(), a.err());
        assertTrue(a.out().startsWith("ROMEO:"), a.out());
        assertTrue(a.err().matches("(?s)prefill 6 tokens at .* tokens/s; decode \\d+ tokens at .* tokens/s \\(stop: .*\\)\\s*"), a.err());
        assertEquals(a.out(), generate("--prompt", "ROMEO:", "--max-tokens", "20", "--seed", "3").out(), "same seed, same text");
        // the default budget shrinks to what the context (32) holds
        CliTest.Result d = generate("--prompt", "ROMEO:", "--temperature", "0", "--json");
        Map<String, Object> j = Json.obj(Json.parse(d.out().strip(), "out"), "out");
        assertTrue(((Number) j.get("tokens")).intValue() <= 27, d.out());
    }

    @Test
    void aBatchPrintsEachPromptAndJsonHasTheSpeeds() {
        CliTest.Result r = generate("--prompt", "To be", "--prompt", "KING:", "--max-tokens", "8", "--json", "--seed", "5");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length, r.out());
        for (String line : lines) {
            Map<String, Object> j = Json.obj(Json.parse(line, "line"), "line");
            for (String k : List.of("prompt", "text", "prompt_tokens", "tokens", "stop", "prefill_tokens_per_sec", "decode_tokens_per_sec")) {
                assertTrue(j.containsKey(k), k + " in " + line);
            }
        }
        // prompt 2 of the batch is what that prompt gives alone with seed + 1
        CliTest.Result alone = generate("--prompt", "KING:", "--max-tokens", "8", "--json", "--seed", "6");
        assertEquals(Json.obj(Json.parse(lines[1], "l"), "l").get("text"), Json.obj(Json.parse(alone.out().strip(), "a"), "a").get("text"));
    }

    @Test
    void aStopStringEndsTheText() {
        CliTest.Result r = generate("--prompt", "ROMEO:", "--max-tokens", "25", "--temperature", "0", "--json");
        String text = (String) Json.obj(Json.parse(r.out().strip(), "o"), "o").get("text");
        String stop = text.substring(3, 5);
        CliTest.Result s = generate("--prompt", "ROMEO:", "--max-tokens", "25", "--temperature", "0", "--json", "--stop", stop);
        Map<String, Object> j = Json.obj(Json.parse(s.out().strip(), "o"), "o");
        assertEquals(text.substring(0, text.indexOf(stop)), j.get("text"));
        assertEquals("stop_string", j.get("stop"));
    }

    @Test
    void badInputIsOneLineAndStatusTwo() {
        for (String[] args : List.of(
                new String[] {"--prompt", "ROMEO:", "--top-p", "1.5"},
                new String[] {"--prompt", "ROMEO:", "--temperature", "-1"},
                new String[] {"--prompt", "ROMEO:", "--min-p", "1"},
                new String[] {"--prompt", "ROMEO:", "--top-k", "-3"},
                new String[] {"--prompt", "ROMEO:", "--repetition-penalty", "0"},
                new String[] {"--prompt", "ROMEO:", "--max-tokens", "40"},
                new String[] {"--prompt", ""},
                new String[] {"--prompt", "ROMEO:", "--stop", ""},
                new String[] {})) {
            CliTest.Result r = generate(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertEquals("", r.out(), "nothing printed before the error");
        }
        CliTest.Result far = generate("--prompt", "ROMEO:", "--max-tokens", "40");
        assertTrue(far.err().contains("context length 32") && far.err().contains("--sliding-window"), far.err());
        CliTest.Result slides = generate("--prompt", "ROMEO:", "--max-tokens", "40", "--sliding-window", "--json");
        assertEquals(0, slides.status(), slides.err());
        assertEquals(40, ((Number) Json.obj(Json.parse(slides.out().strip(), "o"), "o").get("tokens")).intValue());
        CliTest.Result missing = CliTest.run("generate", "--model", shared.resolve("nope").toString(), "--prompt", "x");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("nope"), missing.err());
    }

    @Test
    void benchGenerateReportsPrefillAndDecodeSeparately() {
        CliTest.Result r = CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "8", "--new-tokens", "8", "--runs", "1", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> j = Json.obj(Json.parse(r.out().strip(), "o"), "o");
        for (String k : List.of("prefill_tokens_per_sec", "decode_tokens_per_sec", "weights_mb", "kv_cache_mb", "peak_rss_mb", "read_roofline_gb_per_sec", "read_median_gb_per_sec")) {
            assertTrue(((Number) j.get(k)).doubleValue() > 0, k + " in " + r.out());
        }
        // the decode rate in bytes over the measured roofline: one figure in two units
        double fraction = ((Number) j.get("decode_roofline_fraction")).doubleValue();
        assertEquals(((Number) j.get("decode_weight_gb_per_sec")).doubleValue() / ((Number) j.get("read_roofline_gb_per_sec")).doubleValue(),
                fraction, 0.05 * fraction + 0.002, "the same measurement, each figure rounded (GB/s to 0.1, the fraction to 0.001)");
        // one new token needs no decode pass: a prefill-only run reports no decode rate rather than a meaningless one
        CliTest.Result one = CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "8", "--new-tokens", "1", "--runs", "1", "--json");
        assertEquals(0, one.status(), one.err());
        Map<String, Object> o = Json.obj(Json.parse(one.out().strip(), "o"), "o");
        assertTrue(((Number) o.get("prefill_tokens_per_sec")).doubleValue() > 0, one.out());
        assertTrue(o.containsKey("decode_tokens_per_sec") && o.get("decode_tokens_per_sec") == null, one.out());
        assertTrue(CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "8", "--new-tokens", "1", "--runs", "1")
                .out().contains("decode          none"));
        CliTest.Result shape = CliTest.run("bench", "generate", "--shape", "nope");
        assertEquals(2, shape.status());
        assertTrue(shape.err().contains("small, gpt2-124m, llama-110m"), shape.err());
        // each error names the option the user got wrong, and the range it may take (this model's context is 32)
        CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "30", "--new-tokens", "8")
                .isOneLineError("--new-tokens 8 must be 1 to 3 after a 30-token prompt (context length 32)");
        CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "40").isOneLineError("--prompt-tokens 40 must be 1 to 32, the context length");
        CliTest.run("bench", "generate", "--model", model.toString(), "--prompt-tokens", "0").isOneLineError("--prompt-tokens 0 must be 1 to 32");
    }
}
