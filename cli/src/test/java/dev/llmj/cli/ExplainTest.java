package dev.llmj.cli;

import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Param;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llmj explain as a user runs it, on a small random-weight gpt2 model over Shakespeare's 65 characters. */
class ExplainTest {
    @TempDir
    static Path shared;
    @TempDir
    Path dir;

    static Path model;

    @BeforeAll
    static void saveAModel() throws Exception {
        Tokenizer tok = CharTokenizer.build(Files.readString(CliTestData.shakespeare()), List.of());
        DecoderLM m = new DecoderLM(ModelConfig.gpt2(tok.vocabSize(), 32, 16, 2, 2, 0f), 7);
        for (Param p : m.params()) if (p.shape.length == 2) for (int i = 0; i < p.size(); i++) p.value()[i] *= 10f; // peaked attention
        model = shared.resolve("model");
        ModelFolder.save(m, tok, model);
    }

    static CliTest.Result explain(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "explain";
        all[1] = "--model";
        all[2] = model.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return CliTest.run(all);
    }

    @Test
    void tablesShowTokensPredictionsAndEveryHead() {
        CliTest.Result r = explain("--text", "To be, or not", "--top-k", "3");
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("13 tokens (the model reads up to 32)"), out);
        assertTrue(out.contains("tokens: T│o│·│b│e│,│·│o│r│·│n│o│t"), out);
        assertTrue(out.contains("ids:    32 53 1 40 43 6 1 53 56 1 52 53 58"), out);
        // position 0: input 'T' (32), label 'o' (53), p(label), loss and three candidates
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+0\\s+32 T\\s+53 o\\s+0\\.\\d{4}\\s+\\d+\\.\\d{4}\\s+(\\S+ \\d\\.\\d{3}\\s*){3}")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+12\\s+58 t\\s+—\\s+—\\s+—\\s+.*")), "the last position has no label: " + out);
        for (String map : List.of("layer 0, head 0", "layer 0, head 1", "layer 1, head 0", "layer 1, head 1")) assertTrue(out.contains(map), map);
        assertTrue(out.lines().filter(l -> l.matches("\\s+0 T\\s+1\\.000(\\s+0){12}")).count() == 4, "row 0: itself, then twelve exact zeros");
        assertTrue(CliTest.run("--help").out().contains("explain"), "listed in llmj --help");
    }

    @Test
    void theMeanLossIsWhatEvalReports() throws Exception {
        String text = "First Citizen:\nBefore we proceed"; // 32 characters: exactly the context
        Path file = dir.resolve("text.txt");
        Files.writeString(file, text);
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--data", file.toString(), "--json");
        CliTest.Result x = explain("--file", file.toString(), "--json");
        assertEquals(0, e.status(), e.err());
        assertEquals(0, x.status(), x.err());
        double evalLoss = (Double) Json.obj(Json.parse(e.out(), "eval"), "eval").get("loss");
        Map<String, Object> j = Json.obj(Json.parse(x.out(), "explain"), "explain");
        assertEquals(evalLoss, (Double) j.get("loss"), 1e-5);
        List<Object> preds = Json.arr(j.get("predictions"), "predictions");
        assertEquals(text.length(), preds.size());
        double sum = 0;
        for (Object o : preds.subList(0, preds.size() - 1)) sum += (Double) Json.obj(o, "p").get("loss");
        assertEquals(evalLoss, sum / (preds.size() - 1), 1e-5, "the mean of the per-position losses");
        assertEquals(4, Json.arr(j.get("attention"), "attention").size());
    }

    @Test
    void htmlHasAHeatmapPerHeadAskedFor() throws Exception {
        Path page = dir.resolve("out/explain.html");
        CliTest.Result r = explain("--text", "To be", "--html", page.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("wrote " + page), r.out());
        String html = Files.readString(page);
        assertEquals(4, html.split("<canvas data-map=", -1).length - 1);
        assertEquals(0, explain("--text", "To be", "--html", page.toString(), "--layer", "1", "--head", "0").status());
        html = Files.readString(page);
        assertEquals(1, html.split("<canvas data-map=", -1).length - 1);
        assertTrue(html.contains("layer 1, head 0"));
    }

    @Test
    void traceShowsEveryStageAndChecksItselfAgainstTheForward() {
        CliTest.Result r = explain("--text", "To be, or", "--trace", "--layer", "1", "--position", "3", "--dims", "4");
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.startsWith("trace: position 3 ('b', id 40) through layer 1 of 2"), out);
        for (String s : List.of("[1×9×16]", "q [1×2×9×8]", "[1×2×9×9]", "[1×9×64]", "[1×9×65]", "(4 of 16)", "(4 of 64)", "−∞")) assertTrue(out.contains(s), s);
        Matcher m = Pattern.compile("max \\|ΔP\\| (\\S+) over layer 1's weights, max \\|Δlogit\\| (\\S+)").matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Double.parseDouble(m.group(1)) < 1e-5 && Double.parseDouble(m.group(2)) < 1e-5, m.group());
    }

    @Test
    void badInputIsOneLineAndStatusTwo() throws Exception {
        Path page = dir.resolve("page.html");
        CliTest.run("explain", "--model", dir.resolve("none").toString(), "--text", "To be").isOneLineError("does not exist");
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) Files.copy(model.resolve(f), broken.resolve(f));
        Files.write(broken.resolve("model.safetensors"), new byte[] {1, 2, 3});
        CliTest.run("explain", "--model", broken.toString(), "--text", "To be").isOneLineError("model.safetensors");
        Files.writeString(broken.resolve("config.json"), "{\"model_type\": ");
        CliTest.run("explain", "--model", broken.toString(), "--text", "To be").isOneLineError("config.json");
        Files.delete(broken.resolve("tokenizer.json"));
        CliTest.run("explain", "--model", broken.toString(), "--text", "To be").isOneLineError("has no tokenizer.json");

        explain("--text", "", "--html", page.toString()).isOneLineError("tokenizes to nothing");
        explain("--text", "to be ".repeat(6), "--html", page.toString()).isOneLineError("context length");
        Path file = Files.writeString(dir.resolve("notes.txt"), "x");
        explain("--text", "To be", "--html", file.resolve("page.html").toString()).isOneLineError("is a file, not a folder");
        explain("--text", "To be", "--html", dir.toString()).isOneLineError("is a folder");
        explain("--text", "To be", "--layer", "2").isOneLineError("--layer 2 does not exist: the model has layers 0..1");
        explain("--text", "To be", "--head", "-1").isOneLineError("--head -1 does not exist");
        explain("--text", "To be", "--position", "1").isOneLineError("add --trace");
        explain("--text", "To be", "--trace", "--position", "5").isOneLineError("--position 5 is outside the text");
        explain("--text", "To be", "--top-k", "0").isOneLineError("--top-k must be at least 1");
        explain("--text", "猫").isOneLineError("not in the vocabulary");
        assertFalse(Files.exists(page), "no page from failed runs");
    }
}
