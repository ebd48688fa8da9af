package dev.llmj.train;

import dev.llmj.LlmjException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything about a training run except the model's shape: batch and context, the optimizer,
 * the schedule, evaluation and checkpoints. Defaults are nanoGPT's Shakespeare-character recipe.
 * Weight decay applies to matrices only unless {@code decayAll} asks for every parameter.
 */
public record TrainConfig(int steps, int batchSize, int contextLength, int gradAccum, float lr, float minLr, int warmup,
                          int decaySteps, float weightDecay, float beta1, float beta2, float eps, float gradClip,
                          int evalInterval, int evalBatches, int checkpointInterval, long seed, double valFraction,
                          boolean decayAll) {

    public TrainConfig validate() {
        if (steps < 1 || batchSize < 1 || contextLength < 1 || gradAccum < 1 || evalBatches < 1) {
            throw new LlmjException("--steps, --batch-size, --context-length, --grad-accum and --eval-batches must be at least 1");
        }
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr) throw new LlmjException("need 0 <= --min-lr <= --lr and --lr > 0 (got lr " + lr + ", min-lr " + minLr + ")");
        if (warmup < 0 || weightDecay < 0 || gradClip < 0 || !(eps > 0)) {
            throw new LlmjException("--warmup, --weight-decay and --grad-clip must not be negative, and eps must be positive");
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new LlmjException("AdamW betas must be in [0, 1)");
        if (evalInterval < 1 || checkpointInterval < 1) throw new LlmjException("--eval-interval and --checkpoint-interval must be at least 1");
        if (!(valFraction > 0 && valFraction < 1)) throw new LlmjException("--val-fraction must be in (0, 1), not " + valFraction);
        return this;
    }

    public LrSchedule schedule() {
        return new LrSchedule(lr, minLr, warmup, decaySteps);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", steps);
        m.put("batch_size", batchSize);
        m.put("context_length", contextLength);
        m.put("grad_accum", gradAccum);
        m.put("lr", (double) lr);
        m.put("min_lr", (double) minLr);
        m.put("warmup", warmup);
        m.put("decay_steps", decaySteps);
        m.put("weight_decay", (double) weightDecay);
        m.put("beta1", (double) beta1);
        m.put("beta2", (double) beta2);
        m.put("eps", (double) eps);
        m.put("grad_clip", (double) gradClip);
        m.put("eval_interval", evalInterval);
        m.put("eval_batches", evalBatches);
        m.put("checkpoint_interval", checkpointInterval);
        m.put("seed", seed);
        m.put("val_fraction", valFraction);
        m.put("decay_all", decayAll);
        return m;
    }

    public static TrainConfig fromJson(Map<String, Object> m) {
        return new TrainConfig(i(m, "steps"), i(m, "batch_size"), i(m, "context_length"), i(m, "grad_accum"), f(m, "lr"), f(m, "min_lr"),
                i(m, "warmup"), i(m, "decay_steps"), f(m, "weight_decay"), f(m, "beta1"), f(m, "beta2"), f(m, "eps"), f(m, "grad_clip"),
                i(m, "eval_interval"), i(m, "eval_batches"), i(m, "checkpoint_interval"), ((Number) m.get("seed")).longValue(),
                ((Number) m.get("val_fraction")).doubleValue(), Boolean.TRUE.equals(m.get("decay_all")));
    }

    private static int i(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Number n)) throw new LlmjException("trainer_state.json: missing \"" + k + "\"");
        return n.intValue();
    }

    private static float f(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Number n)) throw new LlmjException("trainer_state.json: missing \"" + k + "\"");
        return n.floatValue();
    }
}
