package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tensor.Rng;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Masked-language-model batches, BERT's rule: every real position (not padding, not a special
 * token such as {@code [CLS]}, {@code [SEP]} or {@code <unk>}) is chosen with probability p
 * (15%); a chosen token becomes {@code <mask>} 80% of the time, a random ordinary token 10% and
 * stays itself 10%, and the model must tell the original at every chosen position, whatever it
 * now reads there. A row in which no position was chosen gets one chosen uniformly among its real
 * positions, so every sentence contributes to the loss. Sentences, masks and random tokens all
 * come from one seeded generator: {@link #state()} is the whole state.
 * <pre>
 *   猫 在 垫子 上   →   inputIds 猫 在 &lt;mask&gt; 上      labels −100 −100 垫子 −100
 * </pre>
 */
public final class MlmBatcher implements dev.llmj.data.BatchSource<MlmBatcher.MlmBatch> {
    /** BERT's share of positions chosen. */
    public static final double MASK_PROBABILITY = 0.15;

    private final SentenceBatcher sentences;
    private final Tokenizer tok;
    private final Rng rng;
    private final double probability;
    private final int mask;
    private final int[] ordinary;   // the non-special ids, for the 10% random replacements
    private final int[] candidates; // [T] positions of one row that may be chosen
    private MlmBatch batch;

    /**
     * One MLM batch, {@code [B·T']} row-major like {@link SentenceBatcher.SentenceBatch}:
     * {@code labels} is the original id at chosen positions and {@link CrossEntropy#IGNORE} elsewhere.
     */
    public record MlmBatch(int batchSize, int time, int[] inputIds, int[] labels, boolean[] valid) {}

    /** Batches of {@code data} with BERT's 15%; {@code addSpecials} as in {@link SentenceBatcher}. */
    public MlmBatcher(Sentences data, int batchSize, int contextLength, long seed, boolean addSpecials) {
        this(data, batchSize, contextLength, seed, addSpecials, MASK_PROBABILITY);
    }

    public MlmBatcher(Sentences data, int batchSize, int contextLength, long seed, boolean addSpecials, double probability) {
        this.tok = data.tokenizer();
        this.mask = tok.specials().id(SpecialTokens.Role.MASK);
        if (mask < 0) {
            throw new LlmjException("<mask> absent from the tokenizer, which masked-language-model training needs;"
                    + " train the tokenizer with the mask special token (train-tokenizer --specials pad,mask,…)");
        }
        if (!(probability > 0 && probability <= 1)) throw new LlmjException("the masking probability must be in (0, 1]: " + probability);
        this.rng = new Rng(seed);
        this.sentences = new SentenceBatcher(data, batchSize, contextLength, rng, addSpecials);
        this.probability = probability;
        int n = 0;
        int[] ids = new int[tok.vocabSize()];
        for (int id = 0; id < tok.vocabSize(); id++) if (!tok.specials().isSpecial(id)) ids[n++] = id;
        this.ordinary = Arrays.copyOf(ids, n);
        this.candidates = new int[contextLength];
    }

    /** The next batch: B random sentences, masked. */
    public MlmBatch next() {
        return mask(sentences.next());
    }

    /** The given examples in order, masked (drawing masks from the generator). */
    public MlmBatch batch(int[] examples) {
        return mask(sentences.batch(examples));
    }

    private MlmBatch mask(SentenceBatcher.SentenceBatch in) {
        int B = in.batchSize(), T = in.time();
        MlmBatch out = batch;
        if (out == null || out.batchSize() != B || out.time() != T) {
            out = batch = new MlmBatch(B, T, new int[B * T], new int[B * T], new boolean[B * T]);
        }
        System.arraycopy(in.inputIds(), 0, out.inputIds(), 0, B * T);
        System.arraycopy(in.valid(), 0, out.valid(), 0, B * T);
        Arrays.fill(out.labels(), CrossEntropy.IGNORE);
        for (int b = 0; b < B; b++) {
            int n = 0, chosen = 0;
            for (int t = 0; t < T; t++) {
                int o = b * T + t;
                if (!in.valid()[o] || tok.specials().isSpecial(in.inputIds()[o])) continue;
                candidates[n++] = o;
                if (rng.nextDouble() < probability) {
                    choose(out, o);
                    chosen++;
                }
            }
            if (chosen == 0 && n > 0) choose(out, candidates[rng.nextInt(n)]); // a row of only specials has no loss
        }
        return out;
    }

    /** Position {@code o} is chosen: its label is the original, its input 80% mask, 10% random, 10% itself. */
    private void choose(MlmBatch out, int o) {
        out.labels()[o] = out.inputIds()[o];
        double r = rng.nextDouble();
        if (r < 0.8) out.inputIds()[o] = mask;
        else if (r < 0.9) out.inputIds()[o] = ordinary[rng.nextInt(ordinary.length)];
    }

    /** The generator state (sentence order and masks), for checkpoints. */
    public long state() {
        return rng.state();
    }

    public void setState(long state) {
        rng.setState(state);
    }
}
