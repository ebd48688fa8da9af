package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens.Role;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.WordTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SentenceBatcherTest {
    static final String TEXT = "猫 在 垫子 上\r\n\n   \n狗 在 床 上 很 舒服\n书 在 盒子 里\n球\n";
    static final Tokenizer WORDS = WordTokenizer.build(TEXT, List.of(Role.PAD, Role.MASK, Role.BOS, Role.EOS, Role.UNK), 0);

    @Test
    void oneExamplePerNonBlankLine() {
        Sentences s = Sentences.of(TEXT, WORDS, "t.txt");
        assertEquals(4, s.size(), "the empty and the blank line are skipped");
        assertArrayEquals(WORDS.encode("猫 在 垫子 上"), s.get(0), "the \\r of a Windows line ending is dropped");
        assertArrayEquals(WORDS.encode("球"), s.get(3));
        Sentences[] split = s.split(0.25);
        assertEquals(3, split[0].size());
        assertEquals(1, split[1].size());
        assertArrayEquals(s.get(3), split[1].get(0), "validation is the last lines");
        LlmjException e = assertThrows(LlmjException.class, () -> Sentences.of("\n  \n\r\n", WORDS, "blank.txt"));
        assertTrue(e.getMessage().contains("blank.txt has no non-empty line"), e.getMessage());
    }

    @Test
    void rowsArePaddedToTheLongestOfTheBatchAndCutToTheContext() {
        Sentences s = Sentences.of(TEXT, WORDS, "t.txt");
        int pad = WORDS.specials().id(Role.PAD);
        SentenceBatcher batcher = new SentenceBatcher(s, 3, 5, 1, false);
        SentenceBatcher.SentenceBatch b = batcher.batch(new int[] {3, 0, 2});
        assertEquals(4, b.time(), "the longest row, 猫 在 垫子 上, is 4 tokens");
        assertArrayEquals(new int[] {1, 4, 4}, b.lengths());
        int[] ball = WORDS.encode("球");
        assertArrayEquals(new int[] {ball[0], pad, pad, pad}, Arrays.copyOfRange(b.inputIds(), 0, 4));
        assertArrayEquals(WORDS.encode("猫 在 垫子 上"), Arrays.copyOfRange(b.inputIds(), 4, 8));
        for (int r = 0; r < 3; r++) for (int t = 0; t < 4; t++) assertEquals(t < b.lengths()[r], b.valid()[r * 4 + t]);

        SentenceBatcher.SentenceBatch cut = batcher.batch(new int[] {1});
        assertEquals(5, cut.time(), "狗 在 床 上 很 舒服 is 6 tokens, cut to the context of 5");
        assertArrayEquals(Arrays.copyOf(WORDS.encode("狗 在 床 上 很 舒服"), 5), cut.inputIds());
    }

    @Test
    void specialsMarkTheSentenceAndTruncationKeepsThem() {
        Sentences s = Sentences.of(TEXT, WORDS, "t.txt");
        int bos = WORDS.specials().id(Role.BOS), eos = WORDS.specials().id(Role.EOS), pad = WORDS.specials().id(Role.PAD);
        SentenceBatcher batcher = new SentenceBatcher(s, 2, 5, 1, true);
        SentenceBatcher.SentenceBatch b = batcher.batch(new int[] {1, 3});
        assertEquals(5, b.time());
        int[] dog = WORDS.encode("狗 在 床 上");
        assertArrayEquals(new int[] {bos, dog[0], dog[1], dog[2], eos, bos, WORDS.encode("球")[0], eos, pad, pad}, b.inputIds());
        assertArrayEquals(new int[] {5, 3}, b.lengths());
        // a tokenizer with neither marker adds nothing
        Tokenizer plain = WordTokenizer.build(TEXT, List.of(Role.PAD), 0);
        SentenceBatcher.SentenceBatch p = new SentenceBatcher(Sentences.of(TEXT, plain, "t"), 1, 5, 1, true).batch(new int[] {3});
        assertArrayEquals(plain.encode("球"), p.inputIds());
        assertThrows(LlmjException.class, () -> new SentenceBatcher(s, 2, 2, 1, true), "no room beside [CLS] and [SEP]");
    }

    @Test
    void randomBatchesAreSeededAndResumeFromTheirState() {
        Sentences s = Sentences.of(TEXT, WORDS, "t.txt");
        SentenceBatcher a = new SentenceBatcher(s, 2, 8, 42, false), b = new SentenceBatcher(s, 2, 8, 42, false);
        int[] seen = new int[s.size()];
        for (int i = 0; i < 50; i++) {
            int[] x = a.next().inputIds().clone();
            assertArrayEquals(x, b.next().inputIds());
            for (int e = 0; e < s.size(); e++) if (Arrays.equals(Arrays.copyOf(x, s.get(e).length), s.get(e))) seen[e]++;
        }
        for (int e = 0; e < s.size(); e++) assertTrue(seen[e] > 0, "every example is drawn sometimes");
        long state = a.state();
        int[] expected = a.next().inputIds().clone();
        SentenceBatcher c = new SentenceBatcher(s, 2, 8, 999, false);
        c.setState(state);
        assertArrayEquals(expected, c.next().inputIds());
    }

    @Test
    void aTokenizerWithoutPadIsRefusedWithTheFix() {
        Tokenizer noPad = CharTokenizer.build("abc", List.of(Role.MASK));
        Sentences s = Sentences.of("abc\nba", noPad, "t");
        LlmjException e = assertThrows(LlmjException.class, () -> new SentenceBatcher(s, 2, 4, 1, false));
        assertTrue(e.getMessage().contains("no <pad>") && e.getMessage().contains("--specials pad"), e.getMessage());
        LlmjException m = assertThrows(LlmjException.class, () -> new MlmBatcher(s, 2, 4, 1, false));
        assertTrue(m.getMessage().contains("no <pad>"), m.getMessage());
        assertThrows(LlmjException.class, () -> new SentenceBatcher(Sentences.of("abc", CharTokenizer.build("abc", List.of(Role.PAD)), "t").split(0.5)[1], 1, 4, 1, false),
                "an empty validation split");
    }

    // ---- masked-language modelling ----

    @Test
    void maskAbsentFromTheTokenizerIsOneClearLine() {
        Tokenizer noMask = WordTokenizer.build(TEXT, List.of(Role.PAD), 0);
        LlmjException e = assertThrows(LlmjException.class, () -> new MlmBatcher(Sentences.of(TEXT, noMask, "t"), 2, 8, 1, false));
        assertTrue(e.getMessage().startsWith("<mask> absent from the tokenizer") && e.getMessage().contains("--specials"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /** A corpus of long lines, so that the proportions can be counted over many positions. */
    private static Sentences longLines(Tokenizer[] tok) {
        StringBuilder b = new StringBuilder();
        for (int line = 0; line < 40; line++) {
            for (int i = 0; i < 30; i++) b.append((char) ('a' + (line * 7 + i * 3) % 26));
            b.append('\n');
        }
        tok[0] = CharTokenizer.build(b.toString().replace("\n", ""), List.of(Role.PAD, Role.MASK, Role.BOS, Role.EOS, Role.UNK));
        return Sentences.of(b.toString(), tok[0], "long");
    }

    @Test
    void bertsProportionsHoldOverManyDraws() {
        Tokenizer[] tok = new Tokenizer[1];
        Sentences s = longLines(tok);
        int mask = tok[0].specials().id(Role.MASK);
        MlmBatcher batcher = new MlmBatcher(s, 8, 32, 7, true);
        SentenceBatcher plain = new SentenceBatcher(s, 8, 32, 0, true);
        long real = 0, chosen = 0, masked = 0, kept = 0, random = 0;
        int[] picked = new int[8];
        for (int step = 0; step < 400; step++) {
            for (int b = 0; b < 8; b++) picked[b] = (step * 8 + b) % s.size();
            int[] original = plain.batch(picked).inputIds().clone();
            MlmBatcher.MlmBatch m = batcher.batch(picked);
            for (int i = 0; i < original.length; i++) {
                if (m.valid()[i] && !tok[0].specials().isSpecial(original[i])) real++;
                if (m.labels()[i] == CrossEntropy.IGNORE) {
                    assertEquals(original[i], m.inputIds()[i], "a position not chosen is left alone");
                    continue;
                }
                chosen++;
                assertEquals(original[i], m.labels()[i], "the label is the original token");
                if (m.inputIds()[i] == mask) masked++;
                else if (m.inputIds()[i] == original[i]) kept++;
                else random++;
                assertFalse(tok[0].specials().isSpecial(m.inputIds()[i]) && m.inputIds()[i] != mask, "a random replacement is an ordinary token");
            }
        }
        // 96,000 real positions: the binomial's standard deviations are ~0.1% of the share chosen, ~0.4% of the 80/10/10 split
        assertEquals(0.15, (double) chosen / real, 0.005);
        assertEquals(0.80, (double) masked / chosen, 0.015);
        // a random token equal to the original counts as kept: 10% + 10%/26 kept, 10%·25/26 replaced
        assertEquals(0.10 + 0.10 / 26, (double) kept / chosen, 0.01);
        assertEquals(0.10 * 25 / 26, (double) random / chosen, 0.01);
    }

    @Test
    void padsAndSpecialsAreNeverChosenAndEveryRowHasALoss() {
        // 书 is unknown to this tokenizer, so it reads <unk>: a special token, never a target
        Tokenizer tok = WordTokenizer.build("猫 在 垫子 上 狗 床", List.of(Role.PAD, Role.MASK, Role.BOS, Role.EOS, Role.UNK), 0);
        int bos = tok.specials().id(Role.BOS), eos = tok.specials().id(Role.EOS), unk = tok.specials().id(Role.UNK);
        Sentences s = Sentences.of("猫 在 垫子 上 书\n狗\n书 狗 书", tok, "t");
        MlmBatcher batcher = new MlmBatcher(s, 6, 8, 3, true);
        for (int step = 0; step < 300; step++) {
            MlmBatcher.MlmBatch m = batcher.next();
            for (int b = 0; b < m.batchSize(); b++) {
                int labelled = 0;
                for (int t = 0; t < m.time(); t++) {
                    int i = b * m.time() + t, label = m.labels()[i];
                    if (label == CrossEntropy.IGNORE) continue;
                    labelled++;
                    assertTrue(m.valid()[i], "padding is never chosen");
                    assertTrue(label != bos && label != eos && label != unk && !tok.specials().isSpecial(label), "specials are never chosen");
                }
                assertTrue(labelled > 0, "a row where nothing was drawn still gets one chosen position");
            }
        }
    }

    @Test
    void masksAreDeterministicAndResumeFromTheState() {
        Tokenizer[] tok = new Tokenizer[1];
        Sentences s = longLines(tok);
        MlmBatcher a = new MlmBatcher(s, 4, 16, 5, false), b = new MlmBatcher(s, 4, 16, 5, false);
        for (int i = 0; i < 20; i++) {
            MlmBatcher.MlmBatch x = a.next(), y = b.next();
            assertArrayEquals(x.inputIds(), y.inputIds());
            assertArrayEquals(x.labels(), y.labels());
        }
        long state = a.state();
        MlmBatcher.MlmBatch next = a.next();
        int[] ids = next.inputIds().clone(), labels = next.labels().clone();
        MlmBatcher resumed = new MlmBatcher(s, 4, 16, 12345, false);
        resumed.setState(state);
        MlmBatcher.MlmBatch r = resumed.next();
        assertArrayEquals(ids, r.inputIds());
        assertArrayEquals(labels, r.labels());
        assertNotEquals(Arrays.toString(labels), Arrays.toString(new MlmBatcher(s, 4, 16, 6, false).next().labels()), "another seed, other masks");
    }
}
