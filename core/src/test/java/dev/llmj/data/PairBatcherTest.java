package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.nn.CrossEntropy;
import dev.llmj.tokenizer.CharTokenizer;
import dev.llmj.tokenizer.SpecialTokens.Role;
import dev.llmj.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PairBatcherTest {
    @TempDir
    Path dir;

    static final String ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz -#";
    static final Tokenizer TOK = CharTokenizer.build(ALPHABET, List.of(Role.PAD, Role.BOS, Role.EOS));

    private Path file(String text) throws Exception {
        Path f = dir.resolve("pairs.tsv");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstSource() throws Exception {
        Pairs p = Pairs.read(file("\uFEFF12\ttwelve\r\n40\tforty\r\n"), TOK);
        assertEquals("12", p.get(0).source());
        assertArrayEquals(TOK.encode("12"), p.get(0).sourceIds());
        assertEquals("forty", p.get(1).target());
    }

    @Test
    void readsTabSeparatedLinesSkippingBlankOnesAndHashIsOrdinary() throws Exception {
        Pairs p = Pairs.read(file("12\ttwelve\r\n\n#3\t# three\n  \n40\tforty\n"), TOK);
        assertEquals(3, p.size());
        assertEquals(1, p.get(0).line());
        assertEquals("twelve", p.get(0).target());
        assertArrayEquals(TOK.encode("12"), p.get(0).sourceIds());
        assertArrayEquals(TOK.encode("twelve"), p.get(0).targetIds(), "the \\r is dropped");
        assertEquals("#3", p.get(1).source(), "# starts no comment");
        assertEquals(3, p.get(1).line());
        assertEquals(5, p.get(2).line(), "line numbers count the skipped lines");
        Pairs[] split = p.split(0.34);
        assertEquals(2, split[0].size());
        assertEquals("40", split[1].get(0).source(), "validation is the last lines");
    }

    @Test
    void malformedLinesNameTheFileTheLineAndTheFault() throws Exception {
        String[][] cases = {
                {"1\tone\n2 two\n", "line 2: no tab"},
                {"1\tone\n\n3\tthree\tdrei\n", "line 3: more than one tab"},
                {"\tone\n", "line 1: the source (before the tab) is empty"},
                {"1\tone\n2\t  \n", "line 2: the target (after the tab) is empty"},
                {"1\tone\n2\ttwo!\n", "line 2: the target: character '!'"},
                {"\n\n", "holds no pairs"}};
        for (String[] c : cases) {
            Path f = file(c[0]);
            LlmjException e = assertThrows(LlmjException.class, () -> Pairs.read(f, TOK), c[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void theTokenizerMustHavePadBosAndEos() {
        for (Role missing : List.of(Role.PAD, Role.BOS, Role.EOS)) {
            List<Role> roles = new java.util.ArrayList<>(List.of(Role.PAD, Role.BOS, Role.EOS));
            roles.remove(missing);
            Tokenizer tok = CharTokenizer.build(ALPHABET, roles);
            LlmjException e = assertThrows(LlmjException.class, () -> Pairs.of("1\tone", tok, "p.tsv"));
            assertTrue(e.getMessage().contains("no " + missing.defaultText) && e.getMessage().contains("--specials pad,bos,eos"), e.getMessage());
        }
    }

    @Test
    void teacherForcingBosPlusTargetInTargetPlusEosOutPaddedToTheLongest() {
        Pairs p = Pairs.of("123\tone two three\n7\tseven\n", TOK, "p.tsv");
        int pad = TOK.specials().id(Role.PAD), bos = TOK.specials().id(Role.BOS), eos = TOK.specials().id(Role.EOS);
        PairBatcher.PairBatch b = new PairBatcher(p, 2, 16, 1).batch(new int[] {1, 0});
        assertEquals(3, b.srcTime());
        assertEquals("one two three".length() + 1, b.tgtTime());
        int S = b.srcTime(), T = b.tgtTime();
        int[] seven = TOK.encode("seven");
        assertArrayEquals(new int[] {TOK.encode("7")[0], pad, pad}, Arrays.copyOfRange(b.srcIds(), 0, S));
        assertArrayEquals(TOK.encode("123"), Arrays.copyOfRange(b.srcIds(), S, 2 * S));
        assertArrayEquals(new boolean[] {true, false, false, true, true, true}, b.srcValid());
        for (int t = 0; t < T; t++) {
            // row 0: <bos> s e v e n <pad>… → s e v e n <eos> −100…
            int in = t == 0 ? bos : t <= seven.length ? seven[t - 1] : pad;
            int label = t < seven.length ? seven[t] : t == seven.length ? eos : CrossEntropy.IGNORE;
            assertEquals(in, b.tgtIn()[t], "tgtIn " + t);
            assertEquals(label, b.labels()[t], "label " + t);
            assertEquals(t <= seven.length, b.tgtValid()[t]);
        }
        int[] three = TOK.encode("one two three");
        assertEquals(bos, b.tgtIn()[T]);
        assertArrayEquals(three, Arrays.copyOfRange(b.tgtIn(), T + 1, 2 * T));
        assertArrayEquals(three, Arrays.copyOfRange(b.labels(), T, 2 * T - 1));
        assertEquals(eos, b.labels()[2 * T - 1]);
    }

    @Test
    void aSourceOrTargetLongerThanTheContextNamesItsLine() {
        Pairs p = Pairs.of("1\tone\n\n12345\tx\n", TOK, "p.tsv");
        LlmjException e = assertThrows(LlmjException.class, () -> new PairBatcher(p, 2, 4, 1));
        assertTrue(e.getMessage().startsWith("p.tsv line 3: a source longer than the context (5 tokens, context length 4)"), e.getMessage());
        new PairBatcher(p, 2, 5, 1); // fits: 5 source tokens, 3 + 1 target positions

        Pairs q = Pairs.of("1\tone\n2\tfour\n", TOK, "q.tsv");
        LlmjException t = assertThrows(LlmjException.class, () -> new PairBatcher(q, 2, 4, 1), "four + <eos> is 5 positions");
        assertTrue(t.getMessage().startsWith("q.tsv line 2: a target longer than the context"), t.getMessage());
        new PairBatcher(q, 2, 5, 1);
    }

    @Test
    void randomOrderIsSeededAndResumesFromItsState() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 50; i++) b.append(i).append('\t').append(NumberWords.words(i)).append('\n');
        Pairs p = Pairs.of(b.toString(), TOK, "p.tsv");
        PairBatcher x = new PairBatcher(p, 4, 32, 9), y = new PairBatcher(p, 4, 32, 9);
        boolean[] seen = new boolean[p.size()];
        for (int i = 0; i < 100; i++) {
            PairBatcher.PairBatch u = x.next();
            int[] src = u.srcIds().clone(), labels = u.labels().clone();
            PairBatcher.PairBatch v = y.next();
            assertArrayEquals(src, v.srcIds());
            assertArrayEquals(labels, v.labels());
            for (int r = 0; r < 4; r++) {
                StringBuilder digits = new StringBuilder();
                for (int s = 0; s < u.srcTime() && u.srcValid()[r * u.srcTime() + s]; s++) digits.append(TOK.idToToken(src[r * u.srcTime() + s]));
                seen[Integer.parseInt(digits.toString())] = true;
            }
        }
        for (int i = 0; i < seen.length; i++) assertTrue(seen[i], "pair " + i + " drawn in 400 draws");
        long state = x.state();
        int[] expected = x.next().tgtIn().clone();
        PairBatcher z = new PairBatcher(p, 4, 32, 1);
        z.setState(state);
        assertArrayEquals(expected, z.next().tgtIn());
    }
}
