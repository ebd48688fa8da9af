package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE vocabulary (the GPT-2 recipe): pre-tokenise the corpus, count each
 * distinct piece once, start from the 256 byte tokens, and repeatedly merge the most frequent
 * adjacent pair (ties: the smaller pair of ids) into a new token until the vocabulary is full.
 * Pair counts are kept up to date incrementally, touching only the words that contain the merged
 * pair, so a 4,096-token vocabulary on Shakespeare takes about a second.
 */
public final class BpeTrainer {

    /** A pair of token ids with its count over the corpus and the words it occurs in (may include stale ones). */
    private static final class PairStat {
        final int left, right, index;
        long count;
        int queuedFor = -1; // the merge after which it was last queued, so it is queued once per merge
        final IntList words = new IntList(4);

        PairStat(int left, int right, int index) {
            this.left = left;
            this.right = right;
            this.index = index;
        }
    }

    /** Every pair seen so far, found through an unboxed hash table. */
    private static final class Pairs {
        final PairTable index = new PairTable(1 << 16);
        final List<PairStat> all = new ArrayList<>();

        PairStat get(int left, int right) {
            int i = index.getOrPut(left, right, all.size());
            if (i == all.size()) all.add(new PairStat(left, right, i));
            return all.get(i);
        }

        /** Adds {@code f} occurrences of (left, right) in word {@code w}, just created by a merge. */
        PairStat add(int left, int right, long f, int w) {
            PairStat p = get(left, right);
            p.count += f;
            if (p.words.size() == 0 || p.words.get(p.words.size() - 1) != w) p.words.add(w);
            return p;
        }
    }

    private BpeTrainer() {}

    /**
     * @param corpus    the training text
     * @param vocabSize the vocabulary size wanted, special tokens included (at least 256 + their count)
     * @param roles     special tokens to append after the learned tokens (EOS becomes {@code <|endoftext|>})
     * @param pattern   the pre-tokenisation regex; null for GPT-2's
     */
    public static ByteBpeTokenizer train(String corpus, int vocabSize, List<SpecialTokens.Role> roles, String pattern) {
        if (roles.contains(SpecialTokens.Role.UNK)) {
            throw new LlmjException("byte-level BPE encodes every byte, so it has no <unk>: leave unk out of --specials");
        }
        if (vocabSize < 256 + roles.size()) {
            throw new LlmjException("--vocab-size " + vocabSize + " is too small for byte-level BPE: it needs one token for each of the 256 byte values"
                    + (roles.isEmpty() ? "" : " plus " + roles.size() + " special token" + (roles.size() > 1 ? "s" : ""))
                    + ", so at least " + (256 + roles.size()));
        }
        if (corpus.isEmpty()) throw new LlmjException("cannot train BPE on an empty corpus");
        if (pattern == null) pattern = ByteBpeTokenizer.GPT2_PATTERN;

        // 1. pre-tokenise and count each distinct piece once
        Map<String, Integer> pieceCounts = new HashMap<>();
        ByteBpeTokenizer.forEachPiece(Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS), corpus,
                piece -> pieceCounts.merge(piece, 1, Integer::sum));

        int nWords = pieceCounts.size();
        int[][] words = new int[nWords][];   // each word as token ids (bytes to start with)
        int[] wordLen = new int[nWords];
        long[] freq = new long[nWords];
        int w = 0;
        for (Map.Entry<String, Integer> e : pieceCounts.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            words[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) words[w][i] = b[i] & 0xFF;
            wordLen[w] = b.length;
            freq[w] = e.getValue();
            w++;
        }

        // 2. count every adjacent pair
        Pairs pairs = new Pairs();
        for (w = 0; w < nWords; w++) {
            for (int i = 0; i + 1 < wordLen[w]; i++) {
                PairStat p = pairs.get(words[w][i], words[w][i + 1]);
                p.count += freq[w];
                p.words.add(w);
            }
        }
        // max count first; on a tie the smaller (left, right) — a fixed order, so training is deterministic
        PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        for (PairStat p : pairs.all) queue.add(new long[] {p.count, PairTable.key(p.left, p.right), p.index});

        // 3. merge until the vocabulary is full
        int nMerges = vocabSize - 256 - roles.size();
        List<byte[]> tokenBytes = new ArrayList<>(vocabSize);
        for (int b = 0; b < 256; b++) tokenBytes.add(new byte[] {(byte) b});
        int[][] merges = new int[nMerges][];
        int done = 0;
        int[] seen = new int[nWords];
        java.util.Arrays.fill(seen, -1);
        List<PairStat> grown = new ArrayList<>();
        while (done < nMerges && !queue.isEmpty()) {
            long[] top = queue.poll();
            PairStat best = pairs.all.get((int) top[2]);
            if (best.count <= 0) continue;
            if (best.count != top[0]) { // stale entry: requeue with the true count
                top[0] = best.count;
                queue.add(top);
                continue;
            }
            int a = best.left, b = best.right, z = tokenBytes.size();
            tokenBytes.add(concat(tokenBytes.get(a), tokenBytes.get(b)));
            merges[done++] = new int[] {a, b, z};
            grown.clear();
            IntList where = best.words;
            for (int k = 0; k < where.size(); k++) {
                w = where.get(k);
                if (seen[w] == z) continue;
                seen[w] = z;
                // merge left to right in place; only the pairs beside each merge change
                int[] s = words[w];
                int n = wordLen[w], out = 0;
                long f = freq[w];
                for (int i = 0; i < n; i++) {
                    if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                        if (out > 0) {                       // (prev, a) becomes (prev, z)
                            int prev = s[out - 1];
                            pairs.get(prev, a).count -= f;
                            grown.add(pairs.add(prev, z, f, w));
                        }
                        if (i + 2 < n) {                     // (b, next) becomes (z, next)
                            int next = s[i + 2];
                            pairs.get(b, next).count -= f;
                            grown.add(pairs.add(z, next, f, w));
                        }
                        s[out++] = z;
                        i++;
                    } else {
                        s[out++] = s[i];
                    }
                }
                wordLen[w] = out;
            }
            best.count = 0; // merged away everywhere
            for (PairStat p : grown) {
                if (p.queuedFor != z && p.count > 0) {
                    p.queuedFor = z;
                    queue.add(new long[] {p.count, PairTable.key(p.left, p.right), p.index});
                }
            }
        }
        if (done < nMerges) merges = java.util.Arrays.copyOf(merges, done); // the corpus ran out of pairs

        List<SpecialTokens.Entry> specials = new ArrayList<>();
        for (SpecialTokens.Role r : roles) {
            String text = r == SpecialTokens.Role.EOS ? SpecialTokens.ENDOFTEXT : r.defaultText;
            specials.add(new SpecialTokens.Entry(r, text, tokenBytes.size()));
            tokenBytes.add(text.getBytes(StandardCharsets.UTF_8));
        }
        int[] ranks = new int[merges.length];
        for (int i = 0; i < ranks.length; i++) ranks[i] = i;
        return new ByteBpeTokenizer(tokenBytes.toArray(byte[][]::new), merges, ranks, ByteBpeTokenizer.Options.of(pattern), new SpecialTokens(specials));
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] out = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }
}
