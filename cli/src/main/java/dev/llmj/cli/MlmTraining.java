package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Corpus;
import dev.llmj.data.MlmBatcher;
import dev.llmj.data.Sentences;
import dev.llmj.io.EncoderFolder;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.EncoderConfig;
import dev.llmj.model.EncoderLM;
import dev.llmj.tensor.Parallel;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import dev.llmj.tokenizer.WordTokenizer;
import dev.llmj.train.TrainConfig;
import dev.llmj.train.Trainer;
import dev.llmj.data.TrainingData;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code llmj train --objective mlm}: a BERT-style encoder learns to restore masked tokens of the
 * sentences (one per line) of a corpus, BERT's way: 15% of the tokens chosen, 80% of those become
 * {@code <mask>}, 10% a random token, 10% stay. The default corpus is the bundled templated Chinese
 * one (word tokenizer), whose masked words follow from their context; at the end, fill-mask
 * examples from validation lines.
 */
final class MlmTraining {
    /** BERT-shaped presets: 4·d MLP, exact GELU, post-norm, dropout 0.1. */
    static final Map<String, TrainCommand.Preset> PRESETS = Map.of(
            "bert-tiny", new TrainCommand.Preset(64, 2, 4, 64, 32, 2e-3f, 2e-4f, 100, 2000, 250, 20, 0.99f, 0.1f),
            "bert-small", new TrainCommand.Preset(128, 4, 4, 64, 32, 1e-3f, 1e-4f, 200, 4000, 250, 20, 0.99f, 0.1f));

    /** The specials an MLM tokenizer gets: padding for batches, <unk>, <mask>, and [CLS]/[SEP] as <bos>/<eos>. */
    static final List<SpecialTokens.Role> SPECIALS = List.of(SpecialTokens.Role.PAD, SpecialTokens.Role.UNK, SpecialTokens.Role.MASK,
            SpecialTokens.Role.BOS, SpecialTokens.Role.EOS);

    private final TrainCommand c;

    MlmTraining(TrainCommand c) {
        this.c = c;
    }

    int run() {
        PrintWriter o = c.spec.commandLine().getOut();
        c.threads.apply();
        rejectDecoderOptions();
        Path dir, corpus;
        EncoderLM model;
        Tokenizer tok;
        TrainConfig cfg;
        if (c.resume != null) {
            dir = c.resume;
            c.rejectOnResume();
            Trainer.recover(dir);
            Path saved = Trainer.savedCorpus(dir);
            corpus = c.data != null ? c.data : saved != null ? saved : defaultCorpus();
            EncoderFolder.Loaded loaded = EncoderFolder.load(dir);
            model = loaded.model();
            tok = loaded.tokenizer();
            cfg = c.resumedConfig(dir);
        } else {
            String name = "tiny".equals(c.preset) ? "bert-tiny" : c.preset; // the common default means the smallest BERT
            TrainCommand.Preset p = PRESETS.get(name);
            if (p == null) throw new LlmjException("unknown --preset '" + c.preset + "' for --objective mlm: use bert-tiny or bert-small");
            dir = c.out != null ? c.out : Path.of("out", name);
            if (ModelFolder.holdsModel(dir) && !c.force) {
                throw new LlmjException(dir + " already holds a model; use --resume " + dir + " to continue it, --force to overwrite it, or another --out");
            }
            corpus = c.data != null ? c.data : defaultCorpus();
            cfg = c.trainConfig(p);
            tok = tokenizer(Corpus.read(corpus), c.data == null);
            int d = TrainCommand.or(c.dModel, p.dModel());
            model = new EncoderLM(new EncoderConfig(tok.vocabSize(), cfg.contextLength(), d, TrainCommand.or(c.layers, p.layers()),
                    TrainCommand.or(c.heads, p.heads()), TrainCommand.or(c.hiddenDim, 4 * d), dev.llmj.nn.Activation.GELU_ERF, 2,
                    TrainCommand.or(c.dropout, p.dropout()), 1e-12f), cfg.seed());
        }
        if (tok.specials().id(SpecialTokens.Role.MASK) < 0) {
            throw new LlmjException("the tokenizer has no <mask>, which masked-language-model training needs; train one with --specials pad,unk,mask"
                    + " (llmj train-tokenizer) or let --tokenizer char|word|bpe build one");
        }
        if (cfg.contextLength() > model.config.contextLength()) {
            throw new LlmjException("--context-length " + cfg.contextLength() + " exceeds the model's " + model.config.contextLength());
        }
        Sentences[] split = Sentences.read(corpus, tok).split(cfg.valFraction());
        if (split[1].size() == 0) {
            throw new LlmjException(Main.shown(corpus) + " has " + split[0].size() + (split[0].size() == 1 ? " line" : " lines") + ": too few to keep a validation part; use more lines or a larger --val-fraction");
        }
        Sentences train = split[0], val = split[1];
        int context = cfg.contextLength();
        TrainingData<MlmBatcher.MlmBatch> data = (validation, batchSize, seed) -> new MlmBatcher(validation ? val : train, batchSize, context, seed, true);
        EncoderLM m = model;
        Tokenizer t = tok;
        Trainer<MlmBatcher.MlmBatch> trainer = new Trainer<>(model, (d, md) -> EncoderFolder.save(m, t, d, md), cfg, data, dir).corpus(corpus);
        if (c.resume != null) trainer.restore();
        else if (c.force) TrainCommand.clearOut(dir); // only once the input has passed every check: a run that fails on it leaves the old model
        if (trainer.step() >= cfg.steps()) throw new LlmjException(dir + " has already trained " + trainer.step() + " steps; raise --steps to go on");

        EncoderConfig ec = model.config;
        String shape = String.format("bert, %d layers, %d heads, d=%d, context %d, vocabulary %d (%s) — %,d parameters", ec.nLayers(), ec.nHeads(),
                ec.dModel(), ec.contextLength(), ec.vocabSize(), tok.kind(), model.parameterCount());
        o.println("model: " + shape);
        o.printf("data: %s, %,d sentences (%,d train, %,d validation), 15%% of tokens masked%n", Main.shown(corpus), train.size() + val.size(),
                train.size(), val.size());
        o.printf("training: %s%d steps of %d sentences (up to %d tokens), lr %.1e → %.1e, %d thread%s, into %s%n",
                c.resume != null ? "steps " + (trainer.step() + 1) + "–" : "", cfg.steps(), cfg.batchSize(), context, cfg.lr(), cfg.minLr(),
                Parallel.threads(), Parallel.threads() == 1 ? "" : "s", Main.shown(dir));
        o.flush();
        c.run(trainer, dir, shape);
        if (!c.noSample) {
            o.println("fill-mask on validation lines (top 3; the hidden word in brackets):");
            for (String line : fillMaskExamples(model, tok, val, 4)) o.println("  " + line);
        }
        return 0;
    }

    /** The bundled Chinese corpus made for fill-mask. */
    static Path defaultCorpus() {
        Path p = Main.home().resolve("data").resolve("fill-mask-zh.txt");
        if (!Files.isRegularFile(p)) throw new LlmjException("no --data given and the bundled corpus " + p + " is missing; pass --data FILE");
        return p;
    }

    /** A tokenizer with {@link #SPECIALS} (byte-level BPE: without <unk>) for the corpus: --tokenizer, else word (the bundled corpus is words between spaces) or char. */
    private Tokenizer tokenizer(String text, boolean bundled) {
        String kind = c.tokenizer != null ? c.tokenizer : bundled ? "word" : "char";
        return switch (kind) {
            case "char" -> CharTokenizer.build(text, SPECIALS);
            case "word" -> WordTokenizer.build(text, SPECIALS, c.vocabSize != null ? c.vocabSize : 0);
            // byte-level BPE has a token for every byte, so nothing is unknown: all the specials but <unk>
            case "bpe" -> BpeTrainer.train(text, c.vocabSize != null ? c.vocabSize : 2048,
                    SPECIALS.stream().filter(r -> r != SpecialTokens.Role.UNK).toList(), null);
            default -> {
                Path f = Path.of(kind);
                if (!Files.exists(f)) throw new LlmjException("--tokenizer '" + kind + "' is neither char, word, bpe nor an existing file");
                yield TokenizerJson.read(Files.isDirectory(f) ? f.resolve("tokenizer.json") : f);
            }
        };
    }

    private void rejectDecoderOptions() {
        if (c.family != null || c.kvHeads != null || c.position != null || c.norm != null || c.activation != null || c.bias != null || c.tiedHead != null
                || c.normFirst != null || c.valData != null) {
            throw new LlmjException("--family, --kv-heads, --position, --norm, --activation, --bias, --tied-head, --norm-first and --val-data are other objectives' options;"
                    + " --objective mlm trains BERT's shape (--d-model, --layers, --heads, --hidden-dim, --dropout may be given)");
        }
    }

    /**
     * For the first {@code n} validation lines of at least 3 tokens: the line with its middle token
     * masked, the model's top 3 candidates and probabilities, and the hidden token.
     */
    static List<String> fillMaskExamples(EncoderLM model, Tokenizer tok, Sentences val, int n) {
        int mask = tok.specials().id(SpecialTokens.Role.MASK), bos = tok.specials().id(SpecialTokens.Role.BOS),
                eos = tok.specials().id(SpecialTokens.Role.EOS);
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < val.size() && out.size() < n; i++) {
            int[] s = val.get(i);
            if (s.length < 3 || s.length + 2 > model.config.contextLength()) continue;
            int at = s.length / 2, truth = s[at];
            int[] ids = new int[s.length + 2];
            ids[0] = bos >= 0 ? bos : s[0];
            System.arraycopy(s, 0, ids, 1, s.length);
            ids[ids.length - 1] = eos >= 0 ? eos : s[s.length - 1];
            int from = bos >= 0 ? 0 : 1, to = eos >= 0 ? ids.length : ids.length - 1; // leave out markers the tokenizer lacks
            ids[at + 1] = mask;
            int[] in = Arrays.copyOfRange(ids, from, to);
            float[] logits = model.forward(in, null, null, 1, in.length, false);
            int vocab = model.config.vocabSize();
            double[] p = FillMaskCommand.softmax(logits, (at + 1 - from) * vocab, vocab);
            StringBuilder b = new StringBuilder(tok.decode(Arrays.copyOfRange(ids, 1, ids.length - 1)).replace("\n", " ")).append("  →");
            for (int best : FillMaskCommand.top(p, tok, 3)) b.append(String.format("  %s %.2f", FillMaskCommand.shown(tok, best), p[best]));
            out.add(b.append("   [").append(FillMaskCommand.shown(tok, truth)).append("]").toString());
        }
        return out;
    }
}
