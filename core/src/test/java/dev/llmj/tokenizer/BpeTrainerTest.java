package dev.llmj.tokenizer;

import dev.llmj.LlmjException;
import dev.llmj.TestData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTrainerTest {

    @Test
    void firstMergesOfTheTextbookExample() {
        // "aaabdaaabac": aa occurs 4 times, more than any other pair, so it is merged first
        // (left to right: aa|a|b|d|aa|a|b|a|c); then (aa, a) and (a, b) tie at 2 and the smaller
        // pair of ids, (97, 98), wins over (256, 97).
        ByteBpeTokenizer t = BpeTrainer.train("aaabdaaabac", 258, List.of(), null);
        int[][] m = t.merges();
        assertArrayEquals(new int[] {'a', 'a', 256}, m[0]);
        assertArrayEquals(new int[] {'a', 'b', 257}, m[1]);
        assertEquals("ab", new String(t.tokenBytes(257), StandardCharsets.US_ASCII));
        assertArrayEquals(new int[] {256, 257, 'd', 256, 257, 'a', 'c'}, t.encode("aaabdaaabac"));
    }

    /** The incremental trainer makes exactly the merges of the obvious one that recounts every pair each step. */
    @Test
    void sameMergesAsANaiveRecountingTrainer() {
        String corpus = TestData.shakespeare().substring(0, 60_000);
        ByteBpeTokenizer fast = BpeTrainer.train(corpus, 256 + 300, List.of(), null);
        List<int[]> slow = naiveMerges(corpus, 300);
        int[][] got = fast.merges();
        assertEquals(slow.size(), got.length);
        for (int i = 0; i < got.length; i++) assertArrayEquals(slow.get(i), got[i], "merge " + i);
    }

    @Test
    void sameMergesOnChineseAndRepeatedRuns() {
        // multi-byte characters, and runs like "aaaa" and "abab" where merges sit side by side
        String corpus = TestData.tangPoems().substring(0, 20_000) + " aaaaaaa aaaa aaa abababab ababab 11111111 ....... ";
        ByteBpeTokenizer fast = BpeTrainer.train(corpus, 256 + 250, List.of(), null);
        List<int[]> slow = naiveMerges(corpus, 250);
        assertEquals(slow.size(), fast.merges().length);
        for (int i = 0; i < slow.size(); i++) assertArrayEquals(slow.get(i), fast.merges()[i], "merge " + i);
    }

    private static List<int[]> naiveMerges(String corpus, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (String p : BpeTrainer.train("x", 256, List.of(), null).preTokenize(corpus)) counts.merge(p, 1, Integer::sum);
        List<List<Integer>> words = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        for (var e : counts.entrySet()) {
            List<Integer> w = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) w.add(b & 0xFF);
            words.add(w);
            freq.add(e.getValue());
        }
        List<int[]> merges = new ArrayList<>();
        for (int step = 0; step < n; step++) {
            Map<Long, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairs.merge(PairTable.key(s.get(i), s.get(i + 1)), (long) freq.get(w), Long::sum);
            }
            long bestKey = -1, bestCount = 0;
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < bestKey)) {
                    bestKey = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (bestKey < 0) break;
            int a = (int) (bestKey >>> 32), b = (int) bestKey, z = 256 + step;
            merges.add(new int[] {a, b, z});
            for (List<Integer> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i) == a && s.get(i + 1) == b) {
                        s.set(i, z);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    @Test
    void losslessOnAnyStringAndDeterministic() {
        String corpus = TestData.shakespeare();
        ByteBpeTokenizer a = BpeTrainer.train(corpus, 1024, List.of(SpecialTokens.Role.EOS), null);
        ByteBpeTokenizer b = BpeTrainer.train(corpus, 1024, List.of(SpecialTokens.Role.EOS), null);
        assertEquals(1024, a.vocabSize());
        assertEquals(1023, a.specials().id(SpecialTokens.Role.EOS));
        assertEquals(SpecialTokens.ENDOFTEXT, a.idToToken(1023));
        for (int i = 0; i < a.merges().length; i++) assertArrayEquals(a.merges()[i], b.merges()[i]);
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            String s = RandomText.next(r, 30);
            assertEquals(s, a.decode(a.encode(s)));
        }
        for (String s : RandomText.adversarial()) assertEquals(s, a.decode(a.encode(s)));
        // Chinese text it never saw still round-trips, byte by byte
        String tang = TestData.tangPoems().substring(0, 5000);
        assertEquals(tang, a.decode(a.encode(tang)));
        // and it compresses what it learned from
        int[] ids = a.encode(corpus);
        assertTrue(ids.length < corpus.length() / 2, "a 1k BPE should need under one token per 2 characters, got " + ids.length);
    }

    @Test
    void scanAndHeapMergeAgree() {
        ByteBpeTokenizer t = BpeTrainer.train(TestData.shakespeare(), 2048, List.of(), null);
        Random r = new Random(3);
        String letters = "abcdefghijklmnopqrstuvwxyzeeeeetttaaooinnsshhrr";
        for (int i = 0; i < 60; i++) {
            StringBuilder b = new StringBuilder();
            int n = i < 30 ? 1 + r.nextInt(300) : 900 + r.nextInt(400); // both sides of the 1,024-byte switch between the merge loops
            for (int k = 0; k < n; k++) b.append(letters.charAt(r.nextInt(letters.length())));
            String word = b.toString();
            assertArrayEquals(naiveEncodePiece(t, word), t.bpe(word.getBytes(StandardCharsets.UTF_8)), word);
        }
    }

    /** Merge the lowest-ranked adjacent pair, leftmost on ties, until none: the definition. */
    private static int[] naiveEncodePiece(ByteBpeTokenizer t, String piece) {
        List<Integer> ids = new ArrayList<>();
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) ids.add(b & 0xFF);
        Map<Long, int[]> rank = new HashMap<>();
        int[][] merges = t.merges();
        for (int i = 0; i < merges.length; i++) rank.putIfAbsent(PairTable.key(merges[i][0], merges[i][1]), new int[] {i, merges[i][2]});
        while (true) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < ids.size(); i++) {
                int[] m = rank.get(PairTable.key(ids.get(i), ids.get(i + 1)));
                if (m != null && m[0] < bestRank) { bestRank = m[0]; best = i; }
            }
            if (best < 0) break;
            ids.set(best, rank.get(PairTable.key(ids.get(best), ids.get(best + 1)))[1]);
            ids.remove(best + 1);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void badSettingsAreClearErrors() {
        LlmjException small = assertThrows(LlmjException.class, () -> BpeTrainer.train("abc", 255, List.of(), null));
        assertTrue(small.getMessage().contains("at least 256"), small.getMessage());
        LlmjException withEos = assertThrows(LlmjException.class, () -> BpeTrainer.train("abc", 256, List.of(SpecialTokens.Role.EOS), null));
        assertTrue(withEos.getMessage().contains("at least 257"), withEos.getMessage());
        assertThrows(LlmjException.class, () -> BpeTrainer.train("", 300, List.of(), null));
        LlmjException unk = assertThrows(LlmjException.class, () -> BpeTrainer.train("abc", 300, List.of(SpecialTokens.Role.UNK), null));
        assertTrue(unk.getMessage().contains("<unk>"), unk.getMessage());
    }

    @Test
    void invalidUnicodeIsAnErrorNotASilentQuestionMark() {
        ByteBpeTokenizer t = BpeTrainer.train("abc", 256, List.of(), null);
        LlmjException e = assertThrows(LlmjException.class, () -> t.encode("ab\uD800c"));
        assertTrue(e.getMessage().contains("unpaired surrogate U+D800"), e.getMessage());
        assertEquals("a😀", t.decode(t.encode("a😀")));
    }

    @Test
    void stopsWhenTheCorpusRunsOutOfPairs() {
        ByteBpeTokenizer t = BpeTrainer.train("abab", 1000, List.of(SpecialTokens.Role.EOS), null);
        // pairs: (a,b)… after "ab" then "abab": two merges, then nothing left to merge
        assertEquals(2, t.merges().length);
        assertEquals(256 + 2 + 1, t.vocabSize());
        assertArrayEquals(new int[] {257}, t.encode("abab"));
    }
}
