package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.data.DemoCorpora;
import dev.llmj.data.PairBatcher;
import dev.llmj.data.Pairs;
import dev.llmj.io.ModelFolder;
import dev.llmj.io.Seq2SeqFolder;
import dev.llmj.model.ModelConfig;
import dev.llmj.model.Seq2SeqConfig;
import dev.llmj.model.Seq2SeqLM;
import dev.llmj.nn.Activation;
import dev.llmj.tensor.Parallel;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.train.TrainConfig;
import dev.llmj.train.Trainer;
import dev.llmj.data.TrainingData;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code llmj train --objective seq2seq}: an encoder–decoder trained with teacher forcing on a
 * tab-separated file of (source, target) pairs, with a character tokenizer over both sides
 * (&lt;pad&gt;, &lt;bos&gt;, &lt;eos&gt;, &lt;unk&gt; after the characters); at the end, greedy decoding of the
 * held-out pairs and their exact-match accuracy. Without --data it learns the bundled task:
 * numbers spelled out in words (data/number-words-*.tsv). {@code --resume DIR} continues exactly,
 * on the same pairs files (checked by their digests) with the checkpoint's own tokenizer.
 */
final class Seq2SeqTraining {
    /** The numbers preset: small enough for a few minutes on two shared cores. Pre-norm, as the PyTorch yardstick (tools/number_words_reference.py). */
    static final Map<String, TrainCommand.Preset> PRESETS = Map.of(
            "numbers", new TrainCommand.Preset(64, 2, 4, 48, 64, 2e-3f, 2e-4f, 100, 1500, 250, 10, 0.99f, 0f));

    private final TrainCommand c;

    Seq2SeqTraining(TrainCommand c) {
        this.c = c;
    }

    int run() {
        PrintWriter o = c.spec.commandLine().getOut();
        c.threads.apply();
        rejectOtherOptions();
        Path dir, trainFile, valFile;
        Seq2SeqLM model;
        Tokenizer tok;
        TrainConfig cfg;
        if (c.resume != null) {
            dir = c.resume;
            c.rejectOnResume();
            Trainer.recover(dir);
            Seq2SeqFolder.Loaded loaded = Seq2SeqFolder.load(dir);
            model = loaded.model();
            tok = loaded.tokenizer(); // the run's own vocabulary, not one rebuilt from the pairs
            // the same pairs as before (--data / --val-data may name copies of them elsewhere), byte for byte
            Path saved = Trainer.savedCorpus(dir);
            trainFile = c.data != null ? c.data : saved != null ? saved : bundled(DemoCorpora.NUMBERS_TRAIN);
            valFile = c.valData != null ? c.valData : Trainer.savedHeldOut(dir);
            Trainer.checkSavedData(dir, trainFile, valFile);
            cfg = c.resumedConfig(dir);
        } else {
            String name = c.preset.equals("tiny") ? "numbers" : c.preset; // "tiny" is train's default: seq2seq's is numbers
            TrainCommand.Preset p = PRESETS.get(name);
            if (p == null) throw new LlmjException("unknown --preset '" + c.preset + "' for --objective seq2seq: use numbers");
            trainFile = c.data != null ? c.data : bundled(DemoCorpora.NUMBERS_TRAIN);
            valFile = c.valData != null ? c.valData : c.data == null ? bundled(DemoCorpora.NUMBERS_TEST) : null;
            dir = c.out != null ? c.out : Path.of("out", name);
            if (ModelFolder.holdsModel(dir) && !c.force) {
                throw new LlmjException(dir + " already holds a model; use --resume " + dir + " to continue it, --force to overwrite it, or another --out");
            }
            cfg = c.trainConfig(p);
            // one character vocabulary over both sides of the training pairs; characters seen only later become <unk>
            String text = Corpus.readUtf8(trainFile).replace("\t", "").replace("\r", "").replace("\n", "");
            if (text.isBlank()) throw new LlmjException(trainFile + " holds no pairs: give it lines of source<TAB>target");
            tok = CharTokenizer.build(text, List.of(SpecialTokens.Role.PAD, SpecialTokens.Role.BOS, SpecialTokens.Role.EOS, SpecialTokens.Role.UNK));
            Seq2SeqConfig mc = new Seq2SeqConfig(tok.vocabSize(), cfg.contextLength(), TrainCommand.or(c.dModel, p.dModel()),
                    TrainCommand.or(c.layers, p.layers()), TrainCommand.or(c.layers, p.layers()), TrainCommand.or(c.heads, p.heads()),
                    TrainCommand.or(c.hiddenDim, 4 * TrainCommand.or(c.dModel, p.dModel())), activation(), TrainCommand.or(c.normFirst, true),
                    TrainCommand.or(c.dropout, p.dropout()), 1e-5f, position()).validate();
            model = new Seq2SeqLM(mc, c.seed);
        }
        Pairs all = Pairs.read(trainFile, tok);
        Pairs[] split = valFile != null ? new Pairs[] {all, Pairs.read(valFile, tok)} : all.split(cfg.valFraction());
        Pairs train = split[0], val = split[1];
        new PairBatcher(train, 1, cfg.contextLength(), 0); // a pair too long for the context is an error now, naming its line
        new PairBatcher(val, 1, cfg.contextLength(), 0);

        TrainingData<PairBatcher.PairBatch> data = (validation, batchSize, seed) -> new PairBatcher(validation ? val : train, batchSize, cfg.contextLength(), seed);
        Seq2SeqLM m = model;
        Tokenizer t = tok;
        Trainer<PairBatcher.PairBatch> trainer = new Trainer<>(model, (d, md) -> Seq2SeqFolder.save(m, t, d, md), cfg, data, dir).corpus(trainFile, valFile);
        if (c.resume != null) trainer.restore();
        else if (c.force) TrainCommand.clearOut(dir); // only once the input has passed every check: a run that fails on it leaves the old model
        if (trainer.step() >= cfg.steps()) throw new LlmjException(dir + " has already trained " + trainer.step() + " steps; raise --steps to go on");

        Seq2SeqConfig mc = model.config;

        String shape = String.format("encoder–decoder, %d+%d layers (%s, %s), %d heads, d=%d, context %d, vocabulary %d (char) — %,d parameters",
                mc.encoderLayers(), mc.decoderLayers(), mc.normFirst() ? "pre-norm" : "post-norm", mc.activation().name().toLowerCase(Locale.ROOT),
                mc.nHeads(), mc.dModel(), mc.contextLength(), mc.vocabSize(), model.parameterCount());
        o.println("model: " + shape);
        o.printf("data: %s, %,d pairs for training, %,d held out%s%n", Main.shown(trainFile), train.size(), val.size(),
                valFile != null ? " (" + Main.shown(valFile) + ")" : "");
        o.printf("training: %s%d steps of %d pairs, lr %.1e → %.1e, %d thread%s, into %s%n", c.resume != null ? "steps " + (trainer.step() + 1) + "–" : "",
                cfg.steps(), cfg.batchSize(), cfg.lr(), cfg.minLr(), Parallel.threads(), Parallel.threads() == 1 ? "" : "s", Main.shown(dir));
        o.flush();
        c.run(trainer, dir, shape);
        TranslateCommand.evaluate(model, tok, val, 1, 0, cfg.contextLength(), 3, o);
        return 0;
    }

    /** Options of the other objectives are an error here, not silently dropped. */
    private void rejectOtherOptions() {
        if (c.family != null || c.kvHeads != null || c.norm != null || c.bias != null || c.tiedHead != null || c.tokenizer != null || c.vocabSize != null) {
            throw new LlmjException("--family, --kv-heads, --norm, --bias, --tied-head, --tokenizer and --vocab-size do not apply to --objective seq2seq"
                    + " (torch.nn.Transformer's shape, a char tokenizer); it takes --d-model, --layers, --heads, --hidden-dim, --dropout, --activation,"
                    + " --position and --norm-first");
        }
    }

    private Activation activation() {
        String a = c.activation == null ? "relu" : c.activation;
        return switch (a) {
            case "relu" -> Activation.RELU;
            case "gelu_erf" -> Activation.GELU_ERF;
            default -> throw new LlmjException("--activation for seq2seq is relu or gelu_erf (torch.nn.Transformer's), not " + a);
        };
    }

    private ModelConfig.Position position() {
        String s = c.position == null ? "sinusoidal" : c.position;
        return switch (s) {
            case "sinusoidal" -> ModelConfig.Position.SINUSOIDAL;
            case "learned" -> ModelConfig.Position.LEARNED;
            default -> throw new LlmjException("--position for seq2seq is sinusoidal or learned, not " + s);
        };
    }

    private static Path bundled(String file) {
        Path p = Main.home().resolve("data").resolve(file);
        if (!Files.isRegularFile(p)) throw new LlmjException("no --data given and the bundled pairs " + p + " are missing; pass --data FILE");
        return p;
    }
}
