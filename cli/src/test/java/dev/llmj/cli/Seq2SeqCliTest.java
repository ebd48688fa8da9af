package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.io.Safetensors;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code llmj train --objective seq2seq} and {@code llmj translate}: a small task learnt end to end, and every bad input as one line. */
class Seq2SeqCliTest {
    @TempDir
    static Path dir;
    static Path pairs, model;
    static CliTest.Result trained;

    /** Sixteen three-letter words and their reversals: learnt exactly in a few hundred small steps. */
    @BeforeAll
    static void train() throws Exception {
        CliTest.findData();
        StringBuilder b = new StringBuilder();
        String letters = "abcdefgh";
        for (int i = 0; i < 16; i++) {
            String w = "" + letters.charAt(i % 8) + letters.charAt((i * 3 + 1) % 8) + letters.charAt((i * 5 + 2) % 8);
            b.append(w).append('\t').append(new StringBuilder(w).reverse()).append('\n');
        }
        pairs = Files.writeString(dir.resolve("pairs.tsv"), b.toString());
        model = dir.resolve("rev");
        trained = CliTest.run("train", "--objective", "seq2seq", "--data", pairs.toString(), "--val-data", pairs.toString(), "--out", model.toString(),
                "--d-model", "32", "--layers", "1", "--heads", "2", "--context-length", "8", "--batch-size", "16", "--steps", "300",
                "--lr", "1e-2", "--min-lr", "1e-3", "--eval-interval", "300", "--threads", "1");
    }

    @Test
    void trainsToExactMatchAndWritesAnEncoderDecoderFolder() throws Exception {
        assertEquals(0, trained.status(), trained.err());
        assertTrue(trained.out().contains("exact match (greedy): 16/16 = 1.0000"), trained.out());
        Map<String, Object> config = Json.obj(Json.parse(Files.readString(model.resolve("config.json")), "config"), "config");
        assertEquals("llmj-seq2seq", config.get("model_type"));
        assertEquals(1L, Json.num(config.get("encoder_layers"), "layers"));
    }

    @Test
    void translatesGreedyAndByBeamAndScoresAFile() {
        CliTest.Result r = CliTest.run("translate", "--model", model.toString(), "--text", "beh");
        assertEquals(0, r.status(), r.err());
        assertEquals("heb", r.out().strip());
        CliTest.Result beam = CliTest.run("translate", "--model", model.toString(), "--text", "beh", "--beam", "4", "--length-penalty", "0.6", "--json");
        assertEquals(0, beam.status(), beam.err());
        Map<String, Object> j = Json.obj(Json.parse(beam.out(), "json"), "json");
        assertEquals("heb", j.get("output"));
        assertEquals(Boolean.TRUE, j.get("finished"));
        assertTrue(((Number) j.get("log_prob")).doubleValue() <= 0);
        CliTest.Result eval = CliTest.run("translate", "--model", model.toString(), "--data", pairs.toString(), "--beam", "2");
        assertEquals(0, eval.status(), eval.err());
        assertTrue(eval.out().contains("exact match (beam 2, α 0.0): 16/16 = 1.0000"), eval.out());
    }

    @Test
    void badPairsAndBadSourcesAreOneLineErrors() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.tsv"), "abc\tcba\nabd cba\n");
        CliTest.run("train", "--objective", "seq2seq", "--data", bad.toString(), "--out", dir.resolve("x").toString())
                .isOneLineError("line 2: no tab");
        Path longer = Files.writeString(dir.resolve("long.tsv"), "abc\tcba\nabcdefghabc\tx\n");
        CliTest.run("train", "--objective", "seq2seq", "--data", longer.toString(), "--context-length", "8", "--out", dir.resolve("y").toString())
                .isOneLineError("line 2: a source longer than the context");
        CliTest.run("translate", "--model", model.toString(), "--text", "abcabcabcabc").isOneLineError("longer than the model's context length 8");
        CliTest.run("translate", "--model", model.toString(), "--text", "abz").isOneLineError("'z' (U+007A) is not in the model's vocabulary");
        CliTest.run("translate", "--model", model.toString()).isOneLineError("give either --text SRC or --data FILE");
        CliTest.run("translate", "--model", model.toString(), "--text", "abc", "--beam", "100000").isOneLineError("--beam must be between 1 and the vocabulary size");
        CliTest.run("generate", "--model", model.toString(), "--prompt", "abc").isOneLineError("is an encoder–decoder (llmj-seq2seq)");
        CliTest.run("train", "--objective", "seq2seq", "--data", pairs.toString(), "--tokenizer", "bpe", "--out", dir.resolve("z").toString())
                .isOneLineError("do not apply to --objective seq2seq");
        CliTest.run("train", "--objective", "seq2seq", "--data", pairs.toString(), "--family", "llama", "--out", dir.resolve("z").toString())
                .isOneLineError("do not apply to --objective seq2seq");
        CliTest.run("train", "--data", pairs.toString(), "--norm-first", "--out", dir.resolve("z").toString()).isOneLineError("are for --objective seq2seq");
        CliTest.run("fill-mask", "--model", model.toString(), "--text", "<mask>").isOneLineError("use llmj translate for this one");
    }

    static final String[] SMALL = {"--d-model", "16", "--layers", "1", "--heads", "2", "--context-length", "8", "--batch-size", "4",
            "--dropout", "0.1", "--warmup", "2", "--decay-steps", "24", "--eval-interval", "6", "--checkpoint-interval", "6", "--eval-batches", "2",
            "--threads", "1"};

    @Test
    void aRunResumedHalfwayEndsWithTheSameWeightsLogAndExactMatch() throws Exception {
        List<String> lines = Files.readAllLines(pairs);
        Path train = Files.write(dir.resolve("train.tsv"), lines.subList(0, 12)), held = Files.write(dir.resolve("held.tsv"), lines.subList(12, 16));
        Path whole = dir.resolve("whole"), halves = dir.resolve("halves");
        CliTest.Result full = CliTest.run(MlmTrainCliTest.args(new String[] {"train", "--objective", "seq2seq", "--data", train.toString(),
                "--val-data", held.toString(), "--out", whole.toString(), "--steps", "24"}, SMALL));
        assertEquals(0, full.status(), full.err());
        CliTest.Result first = CliTest.run(MlmTrainCliTest.args(new String[] {"train", "--objective", "seq2seq", "--data", train.toString(),
                "--val-data", held.toString(), "--out", halves.toString(), "--steps", "12"}, SMALL));
        assertEquals(0, first.status(), first.err());
        // no --data, no --val-data: the checkpoint names both files
        CliTest.Result second = CliTest.run("train", "--objective", "seq2seq", "--resume", halves.toString(), "--steps", "24", "--threads", "1");
        assertEquals(0, second.status(), second.err());
        assertTrue(second.out().contains("steps 13–24") && second.out().contains("data: " + train) && second.out().contains("4 held out (" + held),
                second.out());

        Map<String, Safetensors.Tensor> a = Safetensors.read(whole.resolve("model.safetensors")), b = Safetensors.read(halves.resolve("model.safetensors"));
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) assertArrayEquals(a.get(name).data(), b.get(name).data(), name); // bit for bit
        assertEquals(logWithoutTimes(whole), logWithoutTimes(halves));
        assertEquals(4, logWithoutTimes(halves).size());
        assertEquals(report(full), report(second), "the same held-out translations and exact match");
        assertTrue(report(second).stream().anyMatch(l -> l.startsWith("exact match (greedy): ") && l.contains("/4 = ")), second.out());
    }

    @Test
    void aResumeOnOtherDataOrSettingsIsOneLineError() throws Exception {
        Path copy = Files.copy(pairs, dir.resolve("copy.tsv")), out = dir.resolve("split");
        CliTest.Result r = CliTest.run(MlmTrainCliTest.args(new String[] {"train", "--objective", "seq2seq", "--data", copy.toString(),
                "--out", out.toString(), "--steps", "2"}, SMALL));
        assertEquals(0, r.status(), r.err());
        CliTest.run("train", "--objective", "seq2seq", "--data", copy.toString(), "--out", out.toString()).isOneLineError("use --resume " + out);
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4", "--d-model", "32").isOneLineError("only --steps");
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4", "--no-norm-first").isOneLineError("only --steps");
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4", "--val-data", pairs.toString())
                .isOneLineError("kept the last part of its corpus for validation");
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "2").isOneLineError("has already trained 2 steps");

        Files.writeString(copy, "abc\tcba\n", java.nio.file.StandardOpenOption.APPEND);
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4").isOneLineError(copy + " has changed since");
        Files.delete(copy);
        CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4").isOneLineError(copy + ", which the checkpoint");
        // a copy elsewhere, given by --data, is the same data: the split run goes on
        CliTest.Result more = CliTest.run("train", "--objective", "seq2seq", "--resume", out.toString(), "--steps", "4", "--data", pairs.toString());
        assertEquals(0, more.status(), more.err());
        assertTrue(more.out().contains("steps 3–4") && more.out().contains("exact match (greedy): "), more.out());
    }

    /** The train-log records without their wall-clock fields. */
    private static List<Map<String, Object>> logWithoutTimes(Path run) throws Exception {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("train-log.jsonl"))) {
            Map<String, Object> rec = new java.util.LinkedHashMap<>(Json.obj(Json.parse(line, "log"), "log"));
            rec.remove("elapsed_s");
            rec.remove("tokens_per_sec");
            out.add(rec);
        }
        return out;
    }

    /** The end-of-run report: the held-out examples and the exact match, without its time. */
    private static List<String> report(CliTest.Result r) {
        List<String> lines = r.out().lines().toList();
        int from = 0;
        while (from < lines.size() && !lines.get(from).startsWith("wrote ")) from++;
        return lines.subList(from + 1, lines.size()).stream().map(l -> l.replaceAll(" \\([0-9.]+ s\\)$", "")).toList();
    }

    @Test
    void aDecoderOnlyFolderIsRefusedByTranslate() {
        CharTokenizer tok = CharTokenizer.build("abc", List.of(SpecialTokens.Role.EOS));
        Path gpt = dir.resolve("gpt");
        ModelFolder.save(new DecoderLM(ModelConfig.gpt2(tok.vocabSize(), 8, 8, 1, 2, 0f), 1), tok, gpt);
        CliTest.run("translate", "--model", gpt.toString(), "--text", "abc").isOneLineError("holds a gpt2 model, not an encoder–decoder");
    }
}
