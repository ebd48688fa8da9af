package dev.llmj.cli;

import dev.llmj.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llmj train and llmj eval as a user runs them, and their bad-input paths. */
class TrainCliTest {
    @TempDir
    Path dir;

    private Path corpus() throws Exception {
        Path c = dir.resolve("corpus.txt");
        Files.writeString(c, Files.readString(CliTestData.shakespeare()).substring(0, 40_000));
        return c;
    }

    @Test
    void trainThenEvaluateThenResume() throws Exception {
        Path c = corpus(), out = dir.resolve("m");
        CliTest.Result r = CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--steps", "12", "--eval-interval", "6",
                "--checkpoint-interval", "6", "--batch-size", "4", "--context-length", "32", "--threads", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("model: gpt2, 2 layers, 4 heads, d=64, context 32"), r.out());
        assertTrue(r.out().contains("step    12  train loss"), r.out());
        assertTrue(r.out().contains("sample (temperature 0.8):"), r.out());
        assertEquals(2, Files.readAllLines(out.resolve("train-log.jsonl")).size());

        CliTest.Result e = CliTest.run("eval", "--model", out.toString(), "--data", c.toString(), "--json");
        assertEquals(0, e.status(), e.err());
        Map<String, Object> m = Json.obj(Json.parse(e.out(), "eval"), "eval");
        assertEquals(39_999L, m.get("tokens"));
        double loss = (Double) m.get("loss");
        assertTrue(loss > 1 && loss < Math.log(65) + 0.5, "a barely trained char model: " + loss);
        assertEquals(Math.exp(loss), (Double) m.get("perplexity"), 1e-9);
        Path tiny = dir.resolve("short.txt");
        Files.writeString(tiny, "To be");
        Map<String, Object> s = Json.obj(Json.parse(CliTest.run("eval", "--model", out.toString(), "--data", tiny.toString(), "--json").out(), "e"), "e");
        assertEquals(4L, s.get("tokens"), "a file shorter than the context is one window; no tokens are added");

        CliTest.Result again = CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--steps", "12");
        again.isOneLineError("already holds a model");
        CliTest.run("train", "--resume", out.toString(), "--steps", "14", "--lr", "5").isOneLineError("only --steps, --threads and --data");
        // no --data: the checkpoint remembers its corpus (not the bundled Shakespeare)
        CliTest.Result more = CliTest.run("train", "--resume", out.toString(), "--steps", "14", "--no-sample");
        assertEquals(0, more.status(), more.err());
        assertTrue(more.out().contains("steps 13–14") && more.out().contains("data: " + c), more.out());
        assertEquals(3, Files.readAllLines(out.resolve("train-log.jsonl")).size());
    }

    @Test
    void lossChartIsRedrawnAtEachEvaluationAndCoversAResumedRun() throws Exception {
        Path c = corpus(), out = dir.resolve("chart");
        String[] tinyRun = {"--batch-size", "2", "--context-length", "16", "--d-model", "16", "--heads", "2", "--eval-interval", "2",
                "--eval-batches", "1", "--threads", "1", "--no-sample"};
        CliTest.Result r = CliTest.run(concat(new String[] {"train", "--data", c.toString(), "--out", out.toString(), "--steps", "6"}, tinyRun));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("the loss curves in " + out.resolve("loss.svg")), r.out());
        Document svg = parseSvg(out.resolve("loss.svg"));
        assertEquals(3, points(svg, LossChart.TRAIN_ID), "one point per evaluation: steps 2, 4, 6");
        assertEquals(3, points(svg, LossChart.VAL_ID));
        String text = svg.getDocumentElement().getTextContent();
        for (String label : List.of("step", "loss", "train", "validation", out.toString())) assertTrue(text.contains(label), label + " in " + text);

        Path again = Files.createDirectories(dir.resolve("chart-again")); // the same log, drawn twice, gives the same bytes (no clock or counter in the ids)
        Files.copy(out.resolve("train-log.jsonl"), again.resolve("train-log.jsonl"));
        LossChart.write(again, "t", "s");
        byte[] first = Files.readAllBytes(again.resolve("loss.svg"));
        LossChart.write(again, "t", "s");
        assertArrayEquals(first, Files.readAllBytes(again.resolve("loss.svg")));

        CliTest.Result more = CliTest.run("train", "--resume", out.toString(), "--steps", "10", "--no-sample");
        assertEquals(0, more.status(), more.err());
        Document resumed = parseSvg(out.resolve("loss.svg"));
        assertEquals(5, points(resumed, LossChart.TRAIN_ID), "the whole run, read back from train-log.jsonl");
        assertEquals(5, points(resumed, LossChart.VAL_ID));
    }

    @Test
    void aChartThatCannotBeDrawnIsAWarningNotAFailedRun() throws Exception {
        Path c = corpus(), out = dir.resolve("nochart");
        Files.createDirectories(out.resolve("loss.svg")); // a folder where the chart should go
        CliTest.Result r = CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--steps", "4", "--eval-interval", "2",
                "--batch-size", "2", "--context-length", "16", "--d-model", "16", "--heads", "2", "--eval-batches", "1", "--no-sample");
        assertEquals(0, r.status(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("llmj: warning: cannot draw")).count(), "warned once: " + r.err());
        assertTrue(!r.out().contains("loss curves") && Files.isRegularFile(out.resolve("model.safetensors")), r.out());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Parses the file as XML without fetching anything (an SVG may name a DTD on the web). */
    private static Document parseSvg(Path f) throws Exception {
        DocumentBuilderFactory f0 = DocumentBuilderFactory.newInstance();
        f0.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document d = f0.newDocumentBuilder().parse(f.toFile());
        assertEquals("svg", d.getDocumentElement().getNodeName());
        return d;
    }

    /** The vertices of the series line {@code id} (a group holding one path: "M x y", then " L x y" per further point). */
    private static int points(Document svg, String id) {
        NodeList groups = svg.getElementsByTagName("g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (id.equals(g.getAttribute("id"))) {
                NodeList paths = g.getElementsByTagName("path");
                assertEquals(1, paths.getLength(), id);
                String d = ((Element) paths.item(0)).getAttribute("d");
                assertTrue(d.matches("M-?[0-9.]+ -?[0-9.]+( L-?[0-9.]+ -?[0-9.]+)*"), d);
                return d.split("[ML]", -1).length - 1;
            }
        }
        throw new AssertionError("no <g id=\"" + id + "\">");
    }

    @Test
    void badSettingsAndDataAreOneLine() throws Exception {
        Path c = corpus(), out = dir.resolve("bad");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--heads", "5").isOneLineError("--heads 5 does not divide --d-model 64");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--family", "llama", "--kv-heads", "3")
                .isOneLineError("--kv-heads 3 does not divide --heads 4");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--lr", "-1").isOneLineError("--lr");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--dropout", "1.5").isOneLineError("--dropout");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--preset", "huge").isOneLineError("unknown --preset");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--family", "gpt2", "--norm", "rmsnorm")
                .isOneLineError("fixed by the gpt2 family");
        Path small = dir.resolve("small.txt");
        Files.writeString(small, "To be, or not to be, that is the question.");
        CliTest.run("train", "--data", small.toString(), "--out", out.toString()).isOneLineError("too few");
        CliTest.run("eval", "--model", dir.resolve("none").toString(), "--data", c.toString()).isOneLineError("does not exist");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--objective", "mlm", "--preset", "small").isOneLineError("unknown --preset 'small' for --objective mlm");
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--objective", "seq2seq").isOneLineError("line 1: no tab"); // a text corpus is no pairs file
        CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--objective", "clm").isOneLineError("unknown --objective 'clm'");
        assertTrue(!Files.exists(out), "nothing written by failed runs, not even the token file");
    }

    @Test
    void aForcedRunThatFailsOnItsCorpusLeavesTheOldModel() throws Exception {
        Path c = corpus(), out = dir.resolve("kept");
        CliTest.Result r = CliTest.run("train", "--data", c.toString(), "--out", out.toString(), "--steps", "2", "--eval-interval", "2",
                "--batch-size", "2", "--context-length", "16", "--d-model", "16", "--layers", "1", "--threads", "1", "--no-sample");
        assertEquals(0, r.status(), r.err());
        byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
        Path tiny = dir.resolve("tiny.txt");
        Files.writeString(tiny, "one line\n");
        CliTest.run("train", "--data", tiny.toString(), "--out", out.toString(), "--force").isOneLineError("too few for a training and a validation window");
        for (String f : java.util.List.of("config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "trainer_state.json")) {
            assertTrue(Files.exists(out.resolve(f)), f + " survives the failed --force run");
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(weights, Files.readAllBytes(out.resolve("model.safetensors")));
    }
}
