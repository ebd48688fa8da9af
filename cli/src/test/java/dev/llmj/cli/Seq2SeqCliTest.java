package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
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

    @Test
    void aDecoderOnlyFolderIsRefusedByTranslate() {
        CharTokenizer tok = CharTokenizer.build("abc", List.of(SpecialTokens.Role.EOS));
        Path gpt = dir.resolve("gpt");
        ModelFolder.save(new DecoderLM(ModelConfig.gpt2(tok.vocabSize(), 8, 8, 1, 2, 0f), 1), tok, gpt);
        CliTest.run("translate", "--model", gpt.toString(), "--text", "abc").isOneLineError("holds a gpt2 model, not an encoder–decoder");
    }
}
