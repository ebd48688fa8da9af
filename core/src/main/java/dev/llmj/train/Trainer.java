package dev.llmj.train;

import dev.llmj.model.Trainable;
import dev.llmj.data.BatchSource;
import dev.llmj.data.TrainingData;
import dev.llmj.LlmjException;
import dev.llmj.data.Batcher;
import dev.llmj.data.TokenFile;
import dev.llmj.data.TokenWindows;
import dev.llmj.io.AtomicFiles;
import dev.llmj.io.Json;
import dev.llmj.io.ModelFolder;
import dev.llmj.io.Safetensors;
import dev.llmj.model.DecoderLM;
import dev.llmj.nn.Param;
import dev.llmj.tensor.Kernels;
import dev.llmj.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The training loop, top to bottom: draw a batch, forward with loss, backward, clip, AdamW step;
 * every {@code evalInterval} steps estimate train and validation loss and append a line to
 * {@code train-log.jsonl}; every {@code checkpointInterval} steps and at the end write a
 * checkpoint (the model folder plus {@code optimizer.safetensors} and {@code trainer_state.json}).
 * A checkpoint holds every piece of state (weights, moments, data order, dropout generator), so
 * a resumed run ends with the same weights, bit for bit, as an uninterrupted one.
 * <p>
 * The loop trains any {@link Trainable} on any kind of batch {@code B}: the model says how to
 * compute its loss on a batch, the {@link TrainingData} where batches come from, and a
 * {@link Saver} how to write the model folder. {@link #of} sets it up for a GPT on token windows.
 */
public final class Trainer<B> {
    public static final String OPTIMIZER = "optimizer.safetensors", STATE = "trainer_state.json", LOG = "train-log.jsonl";

    /** What a caller (the CLI's progress bar) hears about. */
    public interface Listener {
        default void step(int step, int steps, float loss, double tokensPerSec, double etaSeconds) {}

        default void eval(Map<String, Object> record) {}

        default void checkpoint(int step, Path dir) {}
    }

    /**
     * Writes the model folder's files ({@code config.json}, {@code model.safetensors},
     * {@code tokenizer.json}, {@code generation_config.json}) into {@code dir}, with
     * {@code metadata} added to the safetensors header. Apart from the model because the folder
     * layout ({@code dev.llmj.io.ModelFolder}) knows the model classes, not the other way round.
     */
    @FunctionalInterface
    public interface Saver {
        void save(Path dir, Map<String, String> metadata);
    }

    private final Trainable<B> model;
    private final Saver saver;
    private final TrainConfig cfg;
    private final TrainingData<B> data;
    private final Path dir;
    private final List<Param> params;
    private final AdamW adam;
    private final BatchSource<B> batches;  // the training stream
    private final Supplier<B> nextBatch;   // batches::next, made once
    private final TrainStep<B> trainStep;  // zero grads, forward with loss, backward, clip, AdamW
    private Path corpus;         // recorded in checkpoints, so --resume finds the same data
    private Path heldOut;        // a separate validation file, recorded the same way (null: none)
    private String corpusSha256, heldOutSha256; // with corpus(corpus, heldOut): what a resumed run checks its files against
    private int step;            // steps completed
    private double elapsed;      // seconds of training before this process, from the checkpoint

    /** Trains {@code model} on {@code data} into {@code dir}, which {@code saver} writes the model folder into. */
    public Trainer(Trainable<B> model, Saver saver, TrainConfig cfg, TrainingData<B> data, Path dir) {
        cfg.validate();
        this.model = model;
        this.saver = saver;
        this.cfg = cfg;
        this.data = data;
        this.dir = dir;
        this.params = model.params();
        this.adam = new AdamW(params, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), cfg.decayAll());
        this.batches = data.batches(false, cfg.batchSize(), cfg.seed());
        this.nextBatch = batches::next;
        this.trainStep = new TrainStep<>(model, params, adam, cfg.gradAccum(), cfg.gradClip());
    }

    /** A GPT trained on next-token windows of {@code cfg.contextLength()} tokens from a training and a validation split. */
    public static Trainer<Batcher.Batch> of(DecoderLM model, Tokenizer tokenizer, TrainConfig cfg, TokenFile.Slice train, TokenFile.Slice val,
                                            Path dir) {
        cfg.validate();
        if (cfg.contextLength() > model.config.contextLength()) {
            throw new LlmjException("--context-length " + cfg.contextLength() + " exceeds the model's " + model.config.contextLength());
        }
        return new Trainer<>(model, (d, metadata) -> ModelFolder.save(model, tokenizer, d, metadata), cfg,
                new TokenWindows(train, val, cfg.contextLength()), dir);
    }

    public int step() {
        return step;
    }

    /** Names the corpus in the checkpoints (absolute), so a resumed run can read the same data. */
    public Trainer<B> corpus(Path corpus) {
        this.corpus = corpus.toAbsolutePath().normalize();
        return this;
    }

    /**
     * Names the corpus and a separate held-out file ({@code null}: none) in the checkpoints, each
     * with the SHA-256 of its bytes, so a resumed run reads the same files and
     * {@link #checkSavedData} can tell one that changed. Each file is read once, whole: for data
     * small enough to be read whole anyway (seq2seq pairs).
     */
    public Trainer<B> corpus(Path corpus, Path heldOut) {
        corpus(corpus);
        corpusSha256 = sha256(corpus);
        if (heldOut != null) {
            this.heldOut = heldOut.toAbsolutePath().normalize();
            heldOutSha256 = sha256(heldOut);
        }
        return this;
    }

    /** Trains until {@code cfg.steps()} steps are done; returns the last evaluation. */
    public Map<String, Object> run(Listener listener) {
        LrSchedule schedule = cfg.schedule();
        Map<String, Object> last = null;
        long start = System.nanoTime();
        int firstStep = step;
        long firstTokens = trainStep.tokens();
        while (step < cfg.steps()) {
            float lr = schedule.at(step);
            if (!trainStep.run(nextBatch, lr)) {
                if (!Float.isFinite(trainStep.loss())) {
                    throw new LlmjException("the loss became " + trainStep.loss() + " at step " + (step + 1)
                            + "; training stopped and the last checkpoint in " + dir + " is intact; try a lower --lr or a --grad-clip");
                }
                throw new LlmjException("the gradients became " + trainStep.gradNorm() + " at step " + (step + 1)
                        + "; training stopped before updating, and the last checkpoint in " + dir + " is intact; try a lower --lr");
            }
            float loss = trainStep.loss();
            step++;
            double secs = (System.nanoTime() - start) / 1e9;
            double tps = (trainStep.tokens() - firstTokens) / Math.max(secs, 1e-9); // real tokens: padding is not counted
            listener.step(step, cfg.steps(), loss, tps, (cfg.steps() - step) * secs / (step - firstStep));
            boolean end = step == cfg.steps();
            if (step % cfg.evalInterval() == 0 || end) {
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("step", step);
                double trainLoss = evaluate(false), valLoss = evaluate(true);
                if (!Double.isFinite(trainLoss) || !Double.isFinite(valLoss)) {
                    throw new LlmjException("the evaluation loss became " + (Double.isFinite(trainLoss) ? valLoss : trainLoss) + " at step " + step
                            + "; training stopped and the last checkpoint in " + dir + " is intact; try a lower --lr");
                }
                rec.put("train_loss", trainLoss);
                rec.put("val_loss", valLoss);
                rec.put("lr", (double) lr);
                rec.put("tokens_per_sec", Math.round(tps * 10) / 10.0);
                rec.put("elapsed_s", Math.round((elapsed + secs) * 100) / 100.0);
                appendLog(rec);
                listener.eval(rec);
                last = rec;
            }
            if (step % cfg.checkpointInterval() == 0 || end) {
                save(elapsed + secs);
                listener.checkpoint(step, dir);
            }
        }
        return last;
    }

    /**
     * Mean loss over {@code evalBatches} batches of the validation (or training) split, drawn by a
     * fresh stream seeded by the run's seed, the split and the step, so evaluation never disturbs
     * the training stream.
     */
    public float evaluate(boolean validation) {
        int which = validation ? 2 : 1;
        BatchSource<B> b = data.batches(validation, cfg.batchSize(), cfg.seed() * 31 + which * 1_000_003L + step);
        double sum = 0;
        for (int i = 0; i < cfg.evalBatches(); i++) sum += model.forwardLoss(b.next(), false);
        return (float) (sum / cfg.evalBatches());
    }

    static void scaleGrads(List<Param> params, float s) {
        for (Param p : params) Kernels.scale(p.grad(), s, p.size());
    }

    /**
     * PyTorch's clip_grad_norm_: scale all gradients by clip / (‖g‖ + 1e-6) when the global norm
     * exceeds clip; returns the norm before clipping.
     */
    public static float clipGradNorm(List<Param> params, float clip) {
        float norm = gradNorm(params);
        float coef = clip / (norm + 1e-6f);
        if (coef < 1f) scaleGrads(params, coef);
        return norm;
    }

    /**
     * The global L2 norm of all gradients, in double: each parameter's squares summed in eight
     * interleaved chains (element i into chain i mod 8: one chain waited out each add's latency, 14 ms
     * a step at d=384), the chains in a fixed tree, the parameters in order.
     */
    public static float gradNorm(List<Param> params) {
        double sq = 0;
        for (Param p : params) {
            float[] g = p.grad();
            int n = p.size(), i = 0;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (; i + 8 <= n; i += 8) {
                s0 += (double) g[i] * g[i];
                s1 += (double) g[i + 1] * g[i + 1];
                s2 += (double) g[i + 2] * g[i + 2];
                s3 += (double) g[i + 3] * g[i + 3];
                s4 += (double) g[i + 4] * g[i + 4];
                s5 += (double) g[i + 5] * g[i + 5];
                s6 += (double) g[i + 6] * g[i + 6];
                s7 += (double) g[i + 7] * g[i + 7];
            }
            for (; i < n; i++) s0 += (double) g[i] * g[i];
            sq += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
        return (float) Math.sqrt(sq);
    }

    private void appendLog(Map<String, Object> rec) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(LOG), Json.write(rec) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new LlmjException("cannot write " + dir.resolve(LOG) + ": " + AtomicFiles.describe(e));
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /** The files of a checkpoint, in the order they are moved into place: the state last, vouching for the rest. */
    static final List<String> FILES = List.of(ModelFolder.WEIGHTS, ModelFolder.TOKENIZER, ModelFolder.GENERATION, ModelFolder.CONFIG,
            OPTIMIZER, STATE);
    /** Where a checkpoint is written in full before any of it replaces the previous one. */
    static final String STAGE = ".checkpoint";

    /**
     * Writes a checkpoint: every file into {@code DIR/.checkpoint/} first, then each moved over
     * the previous one, the trainer state last. All three state-bearing files carry the same
     * random checkpoint id, so files from different checkpoints are never resumed together, and
     * a crash while moving is finished by {@link #recover} from the staged copies.
     */
    public void save(double elapsedSeconds) {
        Path stage = dir.resolve(STAGE);
        deleteTree(stage);
        String id = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
        Map<String, String> tag = Map.of("checkpoint", id, "step", String.valueOf(step));
        saver.save(stage, tag);
        Map<String, Safetensors.Tensor> moments = new LinkedHashMap<>();
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            moments.put("m." + p.name, new Safetensors.Tensor(p.shape.clone(), adam.m[k].clone()));
            moments.put("v." + p.name, new Safetensors.Tensor(p.shape.clone(), adam.v[k].clone()));
        }
        Safetensors.write(stage.resolve(OPTIMIZER), moments, tag);
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("checkpoint", id);
        state.put("step", step);
        state.put("adam_step", adam.stepCount());
        state.put("batcher_state", batches.state());
        state.put("dropout_rng_state", model.rng().state());
        state.put("elapsed_s", elapsedSeconds);
        if (corpus != null) state.put("corpus", corpus.toString());
        if (corpusSha256 != null) state.put("corpus_sha256", corpusSha256);
        if (heldOut != null) {
            state.put("held_out", heldOut.toString());
            state.put("held_out_sha256", heldOutSha256);
        }
        state.put("train", cfg.toJson());
        AtomicFiles.writeString(stage.resolve(STATE), Json.pretty(state));
        commit(dir);
    }

    /** Moves a complete staged checkpoint into place (also finishes one a crash interrupted). */
    private static void commit(Path dir) {
        Path stage = dir.resolve(STAGE);
        try {
            for (String f : FILES) {
                Path from = stage.resolve(f);
                if (Files.exists(from)) {
                    Files.move(from, dir.resolve(f), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new LlmjException("cannot move the checkpoint into " + dir + ": " + AtomicFiles.describe(e));
        }
        deleteTree(stage);
    }

    /**
     * Makes {@code dir} hold one consistent checkpoint before it is loaded: a staged checkpoint
     * whose state was written completely is moved into place; one cut short is dropped, leaving
     * the previous checkpoint as it was.
     */
    public static void recover(Path dir) {
        Path stage = dir.resolve(STAGE);
        if (!Files.isDirectory(stage)) return;
        if (Files.isRegularFile(stage.resolve(STATE))) commit(dir);
        else deleteTree(stage);
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            throw new LlmjException("cannot remove " + p + ": " + AtomicFiles.describe(e));
        }
    }

    /** Removes what a previous run left in {@code dir} besides its token file (for --force). */
    public static void clear(Path dir) {
        deleteTree(dir.resolve(STAGE));
        try {
            for (String f : FILES) Files.deleteIfExists(dir.resolve(f));
            Files.deleteIfExists(dir.resolve(LOG));
        } catch (IOException e) {
            throw new LlmjException("cannot clear " + dir + ": " + AtomicFiles.describe(e));
        }
    }

    /** Restores the optimizer, data order and generators from a checkpoint in {@link #dir} (the model is loaded by the caller). */
    public void restore() {
        recover(dir);
        Map<String, Object> state = readState(dir);
        int savedStep = (int) Json.num(state.get("step"), "step");
        String id = String.valueOf(state.get("checkpoint"));
        for (String file : List.of(OPTIMIZER, ModelFolder.WEIGHTS)) { // all three files must be from one checkpoint
            Path path = dir.resolve(file);
            if (!Files.isRegularFile(path)) throw new LlmjException(dir + " is not a complete checkpoint: it has no " + file);
            String fileId = Safetensors.metadata(path).get("checkpoint");
            if (!id.equals(fileId)) {
                throw new LlmjException(dir + ": " + file + " is not from the same checkpoint as " + STATE + " (step " + savedStep
                        + "); the folder mixes two runs or a checkpoint was cut short, so it cannot be resumed exactly");
            }
        }
        Map<String, Safetensors.Tensor> moments = Safetensors.read(dir.resolve(OPTIMIZER));
        for (int k = 0; k < params.size(); k++) {
            Param p = params.get(k);
            Safetensors.Tensor m = moments.get("m." + p.name), v = moments.get("v." + p.name);
            if (m == null || v == null || m.data().length != p.size() || v.data().length != p.size()) {
                throw new LlmjException(dir.resolve(OPTIMIZER) + " does not match the model (" + p.name + ")");
            }
            System.arraycopy(m.data(), 0, adam.m[k], 0, p.size());
            System.arraycopy(v.data(), 0, adam.v[k], 0, p.size());
        }
        adam.setStepCount(Json.num(state.get("adam_step"), "adam_step"));
        batches.setState(Json.num(state.get("batcher_state"), "batcher_state"));
        model.rng().setState(Json.num(state.get("dropout_rng_state"), "dropout_rng_state"));
        elapsed = state.get("elapsed_s") instanceof Number n ? n.doubleValue() : 0;
        step = savedStep;
        truncateLog(savedStep);
    }

    /** Drops log lines of steps after the checkpoint: the resumed run writes them again. */
    private void truncateLog(int lastStep) {
        Path log = dir.resolve(LOG);
        if (!Files.isRegularFile(log)) return;
        try {
            List<String> keep = new java.util.ArrayList<>();
            for (String line : Files.readAllLines(log)) {
                if (line.isBlank()) continue;
                Object s = Json.obj(Json.parse(line, LOG), LOG).get("step");
                if (s instanceof Number n && n.intValue() <= lastStep) keep.add(line);
            }
            AtomicFiles.writeString(log, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
        } catch (IOException e) {
            throw new LlmjException("cannot read " + log + ": " + AtomicFiles.describe(e));
        }
    }

    private static Map<String, Object> readState(Path dir) {
        Path statePath = dir.resolve(STATE);
        if (!Files.isRegularFile(statePath)) throw new LlmjException(dir + " is not a checkpoint: it has no " + STATE);
        try {
            return Json.obj(Json.parse(Files.readString(statePath), statePath.toString()), STATE);
        } catch (IOException e) {
            throw new LlmjException("cannot read " + statePath + ": " + AtomicFiles.describe(e));
        }
    }

    /** The corpus a checkpoint was trained on, or null if it does not say. */
    public static Path savedCorpus(Path dir) {
        Object c = readState(dir).get("corpus");
        return c instanceof String s ? Path.of(s) : null;
    }

    /** The held-out file a checkpoint was validated on, or null if it kept part of its corpus instead (or does not say). */
    public static Path savedHeldOut(Path dir) {
        Object h = readState(dir).get("held_out");
        return h instanceof String s ? Path.of(s) : null;
    }

    /**
     * Refuses to resume the checkpoint in {@code dir} on other data than it recorded with
     * {@link #corpus(Path, Path)}: a file gone, a file whose bytes changed, or a held-out file
     * where the run split its corpus. A checkpoint that recorded no digests cannot be checked,
     * so it is refused too.
     */
    public static void checkSavedData(Path dir, Path corpus, Path heldOut) {
        Map<String, Object> state = readState(dir);
        if (!(state.get("corpus_sha256") instanceof String corpusSha)) {
            throw new LlmjException(dir + "'s " + STATE + " does not record the data it was trained on (an older llmj wrote it), so it cannot be resumed exactly;"
                    + " start a fresh run with --force");
        }
        checkFile(dir, corpus, corpusSha);
        Object heldOutSha = state.get("held_out_sha256");
        if (heldOut != null && heldOutSha == null) {
            throw new LlmjException(dir + " kept the last part of its corpus for validation, not " + heldOut + "; resume without a held-out file");
        }
        if (heldOut != null) checkFile(dir, heldOut, (String) heldOutSha);
    }

    private static void checkFile(Path dir, Path file, String sha) {
        if (!Files.isRegularFile(file)) {
            throw new LlmjException(file + ", which the checkpoint in " + dir + " was trained on, is gone; put it back, or pass a copy of it");
        }
        if (!sha.equals(sha256(file))) {
            throw new LlmjException(file + " has changed since the checkpoint in " + dir + " was trained on it, so the run cannot continue exactly;"
                    + " restore the file, or start a fresh run with --force");
        }
    }

    /** The SHA-256 of a file's bytes, in hex. */
    private static String sha256(Path file) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new LlmjException("cannot read " + file + ": " + AtomicFiles.describe(e));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** The training settings saved in a checkpoint's trainer_state.json. */
    public static TrainConfig savedConfig(Path dir) {
        return TrainConfig.fromJson(Json.obj(readState(dir).get("train"), "train"));
    }
}
