package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.data.Batcher;
import dev.llmj.data.Corpus;
import dev.llmj.data.TokenFile;
import dev.llmj.generate.GenerationConfig;
import dev.llmj.generate.Generator;
import dev.llmj.io.ModelFolder;
import dev.llmj.model.DecoderLM;
import dev.llmj.model.ModelConfig;
import dev.llmj.nn.Activation;
import dev.llmj.tensor.Parallel;
import dev.llmj.tokenizer.BpeTrainer;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;
import dev.llmj.tokenizer.WordTokenizer;
import dev.llmj.train.TrainConfig;
import dev.llmj.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llmj train}: train a GPT from scratch on a corpus, or resume a checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a decoder-only transformer (a GPT) on a corpus, with hand-written backpropagation.",
                "With no options: the tiny preset on the bundled Shakespeare, then a sample."},
        footer = {"", "Presets: tiny (default, minutes), small (nanoGPT's CPU Shakespeare recipe: 4 layers, 4 heads, d=128,",
                "context 64, batch 12, lr 1e-3, 2,000 steps), gpt2-124m (GPT-2 small's shape, for benchmarks).",
                "", "Examples:", "  llmj train", "  llmj train --preset small --out out/small",
                "  llmj train --resume out/small --steps 3000"})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "FILE", description = "UTF-8 corpus, a file or a folder (default: the bundled tinyshakespeare.txt).")
    Path data;
    @Option(names = "--val-data", paramLabel = "FILE", description = "seq2seq: held-out pairs for validation and the final exact match (default: the last --val-fraction of --data).")
    Path valData;
    @Option(names = "--norm-first", negatable = true, description = "seq2seq: pre-norm blocks (default for the numbers preset); --no-norm-first is PyTorch's post-norm.")
    Boolean normFirst;
    @Option(names = "--out", paramLabel = "DIR", description = "Model folder to write (default: out/PRESET).")
    Path out;
    @Option(names = "--objective", paramLabel = "KIND", defaultValue = "lm",
            description = "lm (next token, a GPT), mlm (masked tokens, a BERT-style encoder) or seq2seq (source → target pairs). Default: ${DEFAULT-VALUE}.")
    String objective;
    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "tiny", description = "tiny, small or gpt2-124m. Default: ${DEFAULT-VALUE}.")
    String preset;
    @Option(names = "--family", paramLabel = "NAME", description = "gpt2 (default), llama, or llmj (then set --position, --norm, --activation…).")
    String family;
    @Option(names = "--tokenizer", paramLabel = "KIND|FILE", description = "char (default), word, bpe, or a tokenizer.json to use as it is.")
    String tokenizer;
    @Option(names = "--vocab-size", paramLabel = "N", description = "BPE vocabulary size when --tokenizer bpe (default 4096).") Integer vocabSize;
    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps in all (default: the preset's; with --resume, raises the total).") Integer steps;
    @Option(names = "--seed", paramLabel = "S", description = "One seed for initialisation, data order and dropout. Default: ${DEFAULT-VALUE}.", defaultValue = "1337") long seed;
    @Mixin
    ThreadsOption threads;
    @Option(names = "--batch-size", paramLabel = "B", description = "Windows per micro-batch (default: the preset's).") Integer batchSize;
    @Option(names = "--context-length", paramLabel = "T", description = "Tokens per window, and the model's context (default: the preset's).") Integer contextLength;
    @Option(names = "--d-model", paramLabel = "D", description = "Width of the residual stream (default: the preset's).") Integer dModel;
    @Option(names = "--layers", paramLabel = "N", description = "Transformer blocks (default: the preset's).") Integer layers;
    @Option(names = "--heads", paramLabel = "N", description = "Attention heads; must divide --d-model (default: the preset's).") Integer heads;
    @Option(names = "--kv-heads", paramLabel = "N", description = "Key/value heads for grouped-query attention (llama, llmj).") Integer kvHeads;
    @Option(names = "--hidden-dim", paramLabel = "N", description = "MLP width (default 4·d; llama: 8/3·d rounded).") Integer hiddenDim;
    @Option(names = "--position", paramLabel = "KIND", description = "llmj family: learned, sinusoidal or rope.") String position;
    @Option(names = "--norm", paramLabel = "KIND", description = "llmj family: layernorm or rmsnorm.") String norm;
    @Option(names = "--activation", paramLabel = "KIND", description = "llmj family: gelu (tanh form, GPT-2), gelu_erf (exact, nanoGPT), relu, silu or swiglu.") String activation;
    @Option(names = "--bias", negatable = true, description = "llmj family: biases in linear layers and LayerNorms (--no-bias is nanoGPT's bias=False).") Boolean bias;
    @Option(names = "--tied-head", negatable = true, description = "llmj family: the LM head shares the token embedding.") Boolean tiedHead;
    @Option(names = "--dropout", paramLabel = "P", description = "Dropout on embeddings and residual branches, in [0, 1) (default 0).") Float dropout;
    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default: the preset's).") Float lr;
    @Option(names = "--min-lr", paramLabel = "LR", description = "Learning rate at the end of the cosine decay (default: the preset's).") Float minLr;
    @Option(names = "--warmup", paramLabel = "N", description = "Linear warm-up steps (default: the preset's, at most a tenth of --steps).") Integer warmup;
    @Option(names = "--decay-steps", paramLabel = "N", description = "Step at which the cosine decay reaches --min-lr (default: --steps).") Integer decaySteps;
    @Option(names = "--weight-decay", paramLabel = "W", description = "AdamW weight decay on matrices (not on norms, biases, embeddings). Default 0.1.") Float weightDecay;
    @Option(names = "--beta1", paramLabel = "B1", description = "AdamW β1. Default 0.9.") Float beta1;
    @Option(names = "--beta2", paramLabel = "B2", description = "AdamW β2 (default: the preset's, 0.99 for tiny and small).") Float beta2;
    @Option(names = "--grad-clip", paramLabel = "X", description = "Clip the global gradient norm to X (0: off). Default 1.0.") Float gradClip;
    @Option(names = "--grad-accum", paramLabel = "N", description = "Micro-batches whose gradients are summed per optimizer step. Default 1.") Integer gradAccum;
    @Option(names = "--eval-interval", paramLabel = "N", description = "Estimate train and validation loss every N steps (default: the preset's).") Integer evalInterval;
    @Option(names = "--eval-batches", paramLabel = "N", description = "Batches per loss estimate (default: the preset's).") Integer evalBatches;
    @Option(names = "--checkpoint-interval", paramLabel = "N", description = "Write a checkpoint every N steps, and always at the end (default: a quarter of --steps).") Integer checkpointInterval;
    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "0.1", description = "The last part of the corpus kept for validation. Default: ${DEFAULT-VALUE}.")
    double valFraction;
    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the checkpoint in DIR exactly where it stopped (--steps may raise the total).")
    Path resume;
    @Option(names = "--force", description = "Overwrite a model already in --out.") boolean force;
    @Option(names = "--decay-all", description = "Apply weight decay to norms, biases and embeddings too (default: matrices only).")
    boolean decayAll;
    @Option(names = "--no-sample", description = "Do not print a sample at the end.") boolean noSample;

    @Spec
    CommandSpec spec;

    /** A preset: the model's shape and the training recipe. */
    record Preset(int dModel, int layers, int heads, int context, int batch, float lr, float minLr, int warmup, int steps,
                  int evalInterval, int evalBatches, float beta2, float dropout) {}

    static final Map<String, Preset> PRESETS = Map.of(
            "tiny", new Preset(64, 2, 4, 64, 16, 2e-3f, 2e-4f, 100, 1500, 250, 20, 0.99f, 0f),
            "small", new Preset(128, 4, 4, 64, 12, 1e-3f, 1e-4f, 100, 2000, 250, 20, 0.99f, 0f),
            "gpt2-124m", new Preset(768, 12, 12, 1024, 8, 6e-4f, 6e-5f, 100, 1000, 100, 10, 0.95f, 0f));

    /** The one place that picks what is trained; each objective's run is its own method or class. */
    @Override
    public Integer call() {
        if (resume != null && !spec.commandLine().getParseResult().hasMatchedOption("--objective")) {
            // a checkpoint knows what it is: --resume needs no --objective
            if (dev.llmj.io.EncoderFolder.isEncoder(resume)) objective = "mlm";
            else if (dev.llmj.io.Seq2SeqFolder.holdsSeq2Seq(resume)) objective = "seq2seq";
        }
        return switch (objective) {
            case "lm" -> trainLm();
            case "mlm" -> new MlmTraining(this).run();
            case "seq2seq" -> new Seq2SeqTraining(this).run();
            default -> throw new LlmjException("unknown --objective '" + objective + "': use lm, mlm or seq2seq");
        };
    }

    /** Next-token training of a GPT on token windows of a corpus. */
    private int trainLm() {
        PrintWriter o = spec.commandLine().getOut();
        threads.apply();
        if (valData != null || normFirst != null) throw new LlmjException("--val-data and --norm-first are for --objective seq2seq; --objective lm splits --data by --val-fraction");
        Path dir;
        DecoderLM model;
        Tokenizer tok;
        TrainConfig cfg;
        Path corpus;
        boolean fresh = false;
        if (resume != null) {
            dir = resume;
            rejectOnResume();
            Trainer.recover(dir); // finish or drop a checkpoint a crash cut short, before loading
            Path savedCorpus = Trainer.savedCorpus(dir);
            corpus = data != null ? data : savedCorpus != null ? savedCorpus : Main.defaultCorpus();
            ModelFolder.Loaded loaded = ModelFolder.load(dir);
            model = loaded.model();
            tok = loaded.tokenizer();
            cfg = resumedConfig(dir);
        } else {
            Preset p = preset();
            dir = outDir();
            corpus = data != null ? data : Main.defaultCorpus();
            fresh = !java.nio.file.Files.exists(dir.resolve("train.tokens"));
            cfg = trainConfig(p);
            String text = Corpus.read(corpus);
            tok = buildTokenizer(text);
            model = new DecoderLM(modelConfig(p, tok.vocabSize(), cfg.contextLength()), seed);
        }
        TokenFile tokens = TokenFile.prepare(corpus, tok, dir.resolve("train.tokens"));
        TokenFile.Slice[] split = tokens.split(cfg.valFraction());
        if (split[0].length() < cfg.contextLength() + 1L || split[1].length() < cfg.contextLength() + 1L) {
            tokens.close();
            if (fresh) {
                try {
                    java.nio.file.Files.deleteIfExists(dir.resolve("train.tokens")); // leave nothing behind
                    java.nio.file.Files.deleteIfExists(dir); // the folder too, if this run made it and it is empty
                } catch (java.io.IOException ignored) {
                    // the folder holds something else: keep it
                }
            }
            throw new LlmjException("the corpus " + Main.shown(corpus) + " has " + tokens.size() + " tokens: too few for a training and a validation window of "
                    + (cfg.contextLength() + 1) + " tokens; use more text or a shorter --context-length");
        }
        Trainer<Batcher.Batch> trainer = Trainer.of(model, tok, cfg, split[0], split[1], dir).corpus(corpus);
        if (resume != null) trainer.restore();
        else if (force) clearOut(dir); // only once the corpus has passed every check: a run that fails on it leaves the old model
        if (trainer.step() >= cfg.steps()) throw new LlmjException(dir + " has already trained " + trainer.step() + " steps; raise --steps to go on");

        ModelConfig mc = model.config;
        String shape = String.format("%s, %d layers, %d heads%s, d=%d, context %d, vocabulary %d (%s) — %,d parameters", mc.family(), mc.nLayers(),
                mc.nHeads(), mc.nKvHeads() != mc.nHeads() ? " (" + mc.nKvHeads() + " k/v)" : "", mc.dModel(), mc.contextLength(), mc.vocabSize(),
                tok.kind(), model.parameterCount());
        o.println("model: " + shape);
        o.printf("data: %s, %,d tokens (%,d train, %,d validation)%n", Main.shown(corpus), tokens.size(), split[0].length(), split[1].length());
        o.printf("training: %s%d steps of %d×%d tokens, lr %.1e → %.1e, %d thread%s, into %s%n",
                resume != null ? "steps " + (trainer.step() + 1) + "–" : "", cfg.steps(), cfg.batchSize(), cfg.contextLength(), cfg.lr(),
                cfg.minLr(), Parallel.threads(), Parallel.threads() == 1 ? "" : "s", Main.shown(dir));
        o.flush();
        run(trainer, dir, shape);
        if (!noSample) {
            o.println("sample (temperature 0.8):");
            o.println(sample(model, tok, seed));
        }
        tokens.close();
        return 0;
    }

    // ---------------------------------------------------------------- shared by every objective

    /** The --preset named, or a clear error. */
    Preset preset() {
        Preset p = PRESETS.get(preset);
        if (p == null) throw new LlmjException("unknown --preset '" + preset + "': use tiny, small or gpt2-124m");
        return p;
    }

    /** The folder a fresh run writes (--out, else out/PRESET); refuses one that holds a model unless --force. */
    Path outDir() {
        Path dir = out != null ? out : Path.of("out", preset);
        if (ModelFolder.holdsModel(dir) && !force) {
            throw new LlmjException(dir + " already holds a model; use --resume " + dir + " to continue it, --force to overwrite it, or another --out");
        }
        return dir;
    }

    /** The training settings of a fresh run: each option given, else the preset's (or the common) default; validated. */
    TrainConfig trainConfig(Preset p) {
        int stepsN = steps != null ? steps : p.steps();
        return new TrainConfig(stepsN, or(batchSize, p.batch()), or(contextLength, p.context()), or(gradAccum, 1), or(lr, p.lr()),
                or(minLr, p.minLr()), or(warmup, Math.min(p.warmup(), stepsN / 10)), or(decaySteps, stepsN), or(weightDecay, 0.1f),
                or(beta1, 0.9f), or(beta2, p.beta2()), 1e-8f, or(gradClip, 1.0f), or(evalInterval, Math.min(p.evalInterval(), stepsN)),
                or(evalBatches, p.evalBatches()), or(checkpointInterval, Math.max(stepsN / 4, 1)), seed, valFraction, decayAll).validate();
    }

    /** The settings saved in the checkpoint in {@code dir}; only --steps may raise the total. */
    TrainConfig resumedConfig(Path dir) {
        TrainConfig saved = Trainer.savedConfig(dir);
        return new TrainConfig(steps != null ? steps : saved.steps(), saved.batchSize(), saved.contextLength(), saved.gradAccum(),
                saved.lr(), saved.minLr(), saved.warmup(), saved.decaySteps(), saved.weightDecay(), saved.beta1(), saved.beta2(),
                saved.eps(), saved.gradClip(), saved.evalInterval(), saved.evalBatches(), saved.checkpointInterval(), saved.seed(),
                saved.valFraction(), saved.decayAll());
    }

    /**
     * Runs the trainer to the end with the progress line and the loss chart ({@code shape} is its
     * subtitle) redrawn at each evaluation, then says how it ended and what it wrote.
     */
    void run(Trainer<?> trainer, Path dir, String shape) {
        PrintWriter o = spec.commandLine().getOut();
        Progress progress = new Progress(spec.commandLine().getErr(), o);
        LossChart chart = new LossChart(dir, Main.shown(dir), shape, spec.commandLine().getErr());
        Map<String, Object> last = trainer.run(new Trainer.Listener() { // the progress line, and the chart redrawn at each evaluation
            @Override
            public void step(int step, int steps, float loss, double tokensPerSec, double etaSeconds) {
                progress.step(step, steps, loss, tokensPerSec, etaSeconds);
            }

            @Override
            public void eval(Map<String, Object> record) {
                progress.eval(record);
                chart.refresh();
            }
        });
        progress.done();
        o.printf("done: train loss %.4f, val loss %.4f after %d steps (%.1f s, %,.0f tokens/s)%n", (Double) last.get("train_loss"),
                (Double) last.get("val_loss"), trainer.step(), (Double) last.get("elapsed_s"), (Double) last.get("tokens_per_sec"));
        o.printf("wrote %s%s%n", Main.shown(dir), chart.drawn() ? ", and the loss curves in " + Main.shown(dir.resolve(LossChart.FILE)) : "");
    }

    /** For --force: the old run's optimizer, state, log and chart must not mix with this one. */
    static void clearOut(Path dir) {
        Trainer.clear(dir);
        try {
            Files.deleteIfExists(dir.resolve(LossChart.FILE));
        } catch (java.io.IOException e) {
            throw new LlmjException("cannot clear " + dir + ": " + dev.llmj.io.AtomicFiles.describe(e));
        }
    }

    // ---------------------------------------------------------------- the lm objective

    private Tokenizer buildTokenizer(String text) {
        String kind = tokenizer == null ? "char" : tokenizer;
        return switch (kind) {
            case "char" -> CharTokenizer.build(text, List.of());
            case "word" -> WordTokenizer.build(text, List.of(SpecialTokens.Role.UNK, SpecialTokens.Role.EOS), 0);
            case "bpe" -> BpeTrainer.train(text, vocabSize != null ? vocabSize : 4096, List.of(SpecialTokens.Role.EOS), null);
            default -> {
                Path f = Path.of(kind);
                if (!Files.exists(f)) throw new LlmjException("--tokenizer '" + kind + "' is neither char, word, bpe nor an existing file");
                yield TokenizerJson.read(Files.isDirectory(f) ? f.resolve("tokenizer.json") : f);
            }
        };
    }

    private ModelConfig modelConfig(Preset p, int vocab, int context) {
        String fam = family == null ? "gpt2" : family;
        int d = or(dModel, p.dModel()), l = or(layers, p.layers()), h = or(heads, p.heads());
        float drop = or(dropout, p.dropout());
        return switch (fam) {
            case "gpt2" -> {
                rejectLlmjOptions("gpt2");
                ModelConfig c = ModelConfig.gpt2(vocab, context, d, l, h, drop);
                yield hiddenDim == null ? c : new ModelConfig("gpt2", vocab, context, d, l, h, h, hiddenDim, c.position(), c.norm(),
                        c.activation(), true, true, drop, c.normEps(), c.ropeTheta());
            }
            case "llama" -> {
                rejectLlmjOptions("llama");
                int hidden = or(hiddenDim, 32 * ((8 * d / 3 + 31) / 32));
                ModelConfig c = ModelConfig.llama(vocab, context, d, l, h, or(kvHeads, h), hidden);
                yield new ModelConfig("llama", vocab, context, d, l, h, c.nKvHeads(), hidden, c.position(), c.norm(), c.activation(), false,
                        false, drop, c.normEps(), c.ropeTheta());
            }
            case "llmj" -> {
                ModelConfig.Position pos;
                Activation act;
                try {
                    pos = ModelConfig.Position.valueOf((position == null ? "learned" : position).toUpperCase(java.util.Locale.ROOT));
                    act = Activation.valueOf((activation == null ? "gelu" : activation).toUpperCase(java.util.Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new LlmjException("--position must be learned, sinusoidal or rope, and --activation gelu, gelu_erf, relu, silu or swiglu");
                }
                yield new ModelConfig("llmj", vocab, context, d, l, h, or(kvHeads, h), or(hiddenDim, 4 * d), pos, norm == null ? "layernorm" : norm,
                        act, bias == null || bias, tiedHead == null || tiedHead, drop, 1e-5f, 10000f);
            }
            default -> throw new LlmjException("unknown --family '" + fam + "': use gpt2, llama or llmj");
        };
    }

    /** A resumed run continues exactly, so it takes its settings from the checkpoint; only --steps may change. */
    void rejectOnResume() {
        Object[] fixed = {family, tokenizer, vocabSize, batchSize, contextLength, dModel, layers, heads, kvHeads, hiddenDim, position, norm,
                activation, bias, tiedHead, normFirst, dropout, lr, minLr, warmup, decaySteps, weightDecay, beta1, beta2, gradClip, gradAccum,
                evalInterval, evalBatches, checkpointInterval, out};
        for (Object o : fixed) {
            if (o != null) {
                throw new LlmjException("--resume continues the checkpoint exactly, with the settings it was started with; only --steps, --threads and --data may be given");
            }
        }
        if (force || decayAll || !"tiny".equals(preset)) throw new LlmjException("--resume takes no --force, --decay-all or --preset: the checkpoint says what it is");
    }

    private void rejectLlmjOptions(String fam) {
        if (position != null || norm != null || activation != null || bias != null || tiedHead != null || (kvHeads != null && fam.equals("gpt2"))) {
            throw new LlmjException("--position, --norm, --activation, --bias and --tied-head" + (fam.equals("gpt2") ? ", --kv-heads" : "")
                    + " are fixed by the " + fam + " family; use --family llmj to choose them");
        }
    }

    static <T> T or(T v, T dflt) {
        return v != null ? v : dflt;
    }

    /** 300 tokens from a line break (or token 0 for a corpus without one), at temperature 0.8, the window sliding. */
    static String sample(DecoderLM model, Tokenizer tok, long seed) {
        int[] start;
        try {
            start = tok.encode("\n");
        } catch (LlmjException notInTheVocabulary) {
            start = new int[0];
        }
        if (start.length == 0) start = new int[] {0};
        GenerationConfig cfg = new GenerationConfig(300, 0.8f, 0, 1f, 0f, 1f, seed, List.of(), true);
        return new Generator(model, tok).generateIds(List.of(start), cfg, null).get(0).text();
    }
}
