package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE in the GPT-2 manner. Encoding is three steps:
 * <ol>
 *   <li>pre-tokenise: a regex cuts the text into pieces (words with their leading space,
 *       numbers, punctuation runs, whitespace), so merges never cross a piece;</li>
 *   <li>each piece becomes its UTF-8 bytes, one token per byte to start with;</li>
 *   <li>merge: repeatedly join the adjacent pair with the lowest merge rank (leftmost first on a
 *       tie) until no adjacent pair has a merge.</li>
 * </ol>
 * Every byte is a token, so any string encodes, and {@code decode(encode(s)) == s} for every
 * valid Unicode string. The same class runs tokenizers trained here ({@link BpeTrainer}), read
 * from a Hugging Face {@code tokenizer.json}, or read from a tiktoken rank file ({@link Tiktoken}).
 */
public final class ByteBpeTokenizer implements Tokenizer {

    /** GPT-2's pre-tokenisation pattern (tiktoken's r50k_base; Hugging Face's ByteLevel {@code use_regex}). */
    public static final String GPT2_PATTERN =
            "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final int NO_MERGE = -1;
    /** Pieces this long or longer merge with a heap (n log n) instead of rescanning (n²). */
    private static final int LONG_PIECE = 1024;
    private static final int CACHE_LIMIT = 1 << 16;
    /** Pieces longer than this are not cached: long ones rarely repeat, and would fill memory. */
    private static final int CACHE_PIECE_CHARS = 64;

    private final byte[][] tokenBytes;   // id → bytes (a special token: its UTF-8 text)
    private final int[] byteToId;        // byte value → id of that single-byte token
    private final PairTable pairToMerge; // (left id, right id) → merge index
    private final int[] mergeLeft, mergeRight, mergeResult, mergeRank;
    private final Options options;
    private final Pattern regex;
    private final SpecialTokens specials;
    private Map<String, Integer> wholePieces; // for ignoreMerges: a piece's bytes (as Latin-1) → id
    private Map<String, Integer> printableToId; // built on first tokenToId
    private final ThreadLocal<Map<String, int[]>> cache = ThreadLocal.withInitial(HashMap::new);

    /**
     * How text is cut before merging, as Hugging Face's tokenizer.json describes it.
     *
     * @param pattern        the pre-tokenisation regex (Java syntax)
     * @param addPrefixSpace put a space before text that does not start with one (ByteLevel's option)
     * @param ignoreMerges   a piece that is itself in the vocabulary is that one token, merges or not (Llama 3)
     */
    public record Options(String pattern, boolean addPrefixSpace, boolean ignoreMerges) {
        public static Options of(String pattern) {
            return new Options(pattern, false, false);
        }
    }

    /**
     * @param tokenBytes id → the bytes it stands for (special tokens: their text's UTF-8)
     * @param merges     each {left id, right id, result id}, in rank order
     * @param ranks      each merge's rank (non-decreasing); equal ranks tie, and the leftmost pair wins
     */
    public ByteBpeTokenizer(byte[][] tokenBytes, int[][] merges, int[] ranks, Options options, SpecialTokens specials) {
        this.tokenBytes = tokenBytes;
        this.byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        for (int id = 0; id < tokenBytes.length; id++) {
            byte[] b = tokenBytes[id];
            if (b != null && b.length == 1 && !specials.isSpecial(id) && byteToId[b[0] & 0xFF] < 0) byteToId[b[0] & 0xFF] = id;
        }
        for (int b = 0; b < 256; b++) {
            if (byteToId[b] < 0) {
                throw new LlmjException(String.format("the byte-level vocabulary has no token for byte 0x%02X, so some text could not be encoded", b));
            }
        }
        int n = merges.length;
        mergeLeft = new int[n];
        mergeRight = new int[n];
        mergeResult = new int[n];
        mergeRank = ranks.clone();
        pairToMerge = new PairTable(n);
        for (int i = 0; i < n; i++) {
            mergeLeft[i] = merges[i][0];
            mergeRight[i] = merges[i][1];
            mergeResult[i] = merges[i][2];
            pairToMerge.putIfAbsent(mergeLeft[i], mergeRight[i], i);
        }
        this.options = options;
        this.regex = Pattern.compile(options.pattern(), Pattern.UNICODE_CHARACTER_CLASS);
        this.specials = specials;
        if (options.ignoreMerges()) {
            wholePieces = new HashMap<>(tokenBytes.length * 2);
            for (int id = 0; id < tokenBytes.length; id++) {
                if (tokenBytes[id] != null && !specials.isSpecial(id)) {
                    wholePieces.putIfAbsent(new String(tokenBytes[id], StandardCharsets.ISO_8859_1), id);
                }
            }
        }
    }

    @Override
    public String kind() {
        return "bpe";
    }

    /** How text is cut before merging. */
    public Options options() {
        return options;
    }

    /** The merges in rank order, each {left id, right id, result id}. */
    public int[][] merges() {
        int[][] out = new int[mergeLeft.length][];
        for (int i = 0; i < out.length; i++) out[i] = new int[] {mergeLeft[i], mergeRight[i], mergeResult[i]};
        return out;
    }

    /** Whether {@code id} names a token (tiktoken vocabularies leave some ids unused). */
    public boolean hasToken(int id) {
        return id >= 0 && id < tokenBytes.length && tokenBytes[id] != null;
    }

    /** The bytes token {@code id} stands for (for a special token, its text's UTF-8). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return tokenBytes[id].clone();
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        if (options.addPrefixSpace() && !text.isEmpty() && text.charAt(0) != ' ') text = " " + text;
        Map<String, int[]> memo = cache.get();
        forEachPiece(regex, text, piece -> encodePiece(piece, memo, out));
        return out.toArray();
    }

    /** The pieces pre-tokenisation cuts {@code text} into (what merges never cross). */
    public List<String> preTokenize(String text) {
        List<String> out = new ArrayList<>();
        forEachPiece(regex, text, out::add);
        return out;
    }

    /** Each match of {@code regex} in order, and any text between matches as a piece of its own, so nothing is lost. */
    static void forEachPiece(Pattern regex, String text, java.util.function.Consumer<String> each) {
        Matcher m = regex.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) each.accept(text.substring(at, m.start()));
            if (m.end() > m.start()) each.accept(text.substring(m.start(), m.end()));
            at = m.end();
        }
        if (at < text.length()) each.accept(text.substring(at));
    }

    private void encodePiece(String piece, Map<String, int[]> memo, IntList out) {
        if (piece.length() > CACHE_PIECE_CHARS) {
            out.addAll(bpe(utf8(piece)));
            return;
        }
        int[] ids = memo.get(piece);
        if (ids == null) {
            ids = bpe(utf8(piece));
            if (memo.size() >= CACHE_LIMIT) memo.clear();
            memo.put(piece, ids);
        }
        out.addAll(ids);
    }

    /** UTF-8 bytes of valid Unicode; an unpaired surrogate is an error, not a silent '?'. */
    private static byte[] utf8(String piece) {
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new LlmjException(String.format("the text is not valid Unicode: it has an unpaired surrogate U+%04X", (int) c));
            }
        }
        return piece.getBytes(StandardCharsets.UTF_8);
    }

    /** The token ids of one piece's bytes: merge the lowest-ranked adjacent pair until none is left. */
    int[] bpe(byte[] bytes) {
        int n = bytes.length;
        if (wholePieces != null && n > 1) {
            Integer whole = wholePieces.get(new String(bytes, StandardCharsets.ISO_8859_1));
            if (whole != null) return new int[] {whole};
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = byteToId[bytes[i] & 0xFF];
        if (n < 2) return ids;
        return n < LONG_PIECE ? mergeByScan(ids) : mergeByHeap(ids);
    }

    private int mergeOf(int left, int right) {
        return pairToMerge.get(left, right, NO_MERGE);
    }

    private int rankOf(int merge) {
        return merge == NO_MERGE ? Integer.MAX_VALUE : mergeRank[merge];
    }

    /** O(n²) in the piece's length but with two small arrays only; best for the short pieces of natural text. */
    private int[] mergeByScan(int[] ids) {
        int n = ids.length;
        int[] merge = new int[n]; // merge[i]: the merge of (ids[i], ids[i+1]), or NO_MERGE
        for (int i = 0; i + 1 < n; i++) merge[i] = mergeOf(ids[i], ids[i + 1]);
        while (n > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                int r = rankOf(merge[i]);
                if (r < bestRank) { bestRank = r; best = i; }
            }
            if (best < 0) break;
            ids[best] = mergeResult[merge[best]];
            System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
            System.arraycopy(merge, best + 2, merge, best + 1, n - best - 2);
            n--;
            if (best > 0) merge[best - 1] = mergeOf(ids[best - 1], ids[best]);
            merge[best] = best + 1 < n ? mergeOf(ids[best], ids[best + 1]) : NO_MERGE;
        }
        return Arrays.copyOf(ids, n);
    }

    /**
     * O(n log n) for long pieces (a run of 100,000 letters is one piece): a linked list of parts
     * and a min-heap of (rank, position); an entry is stale once either of its parts has changed.
     */
    private int[] mergeByHeap(int[] ids) {
        int n = ids.length;
        int[] next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            int r = rankOf(mergeOf(ids[i], ids[i + 1]));
            if (r != Integer.MAX_VALUE) heap.push(((long) r << 32) | i);
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int r = (int) (top >>> 32), i = (int) top;
            if (ids[i] < 0 || next[i] >= n) continue; // merged away, or now last
            int j = next[i];
            int merge = mergeOf(ids[i], ids[j]);
            if (rankOf(merge) != r) continue;          // one of the parts changed since the push
            ids[i] = mergeResult[merge];
            ids[j] = -1;
            next[i] = next[j];
            if (next[i] < n) prev[next[i]] = i;
            if (prev[i] >= 0) {
                int pr = rankOf(mergeOf(ids[prev[i]], ids[i]));
                if (pr != Integer.MAX_VALUE) heap.push(((long) pr << 32) | prev[i]);
            }
            if (next[i] < n) {
                int nr = rankOf(mergeOf(ids[i], ids[next[i]]));
                if (nr != Integer.MAX_VALUE) heap.push(((long) nr << 32) | i);
            }
        }
        IntList out = new IntList(n);
        for (int i = 0; i < n; i = next[i]) out.add(ids[i]);
        return out.toArray();
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (a[c] >= v) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }

    // ---------------------------------------------------------------- decode and vocabulary

    @Override
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /** The bytes that {@code ids} stand for; a byte-level token may hold part of a character. */
    public byte[] decodeBytes(int[] ids) {
        int len = 0;
        for (int id : ids) {
            checkId(id);
            len += tokenBytes[id].length;
        }
        byte[] out = new byte[len];
        int at = 0;
        for (int id : ids) {
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, out, at, b.length);
            at += b.length;
        }
        return out;
    }

    private void checkId(int id) {
        if (!hasToken(id)) {
            throw new LlmjException("token id " + id + " is not in the vocabulary (size " + tokenBytes.length + ")");
        }
    }

    @Override
    public String display(int id) {
        byte[] b = tokenBytes(id);
        var decoder = StandardCharsets.UTF_8.newDecoder();
        try {
            return Tokenizer.escape(decoder.decode(java.nio.ByteBuffer.wrap(b)).toString());
        } catch (java.nio.charset.CharacterCodingException partOfACharacter) {
            StringBuilder s = new StringBuilder();
            for (byte x : b) s.append(String.format("<0x%02X>", x & 0xFF));
            return s.toString();
        }
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public String idToToken(int id) {
        checkId(id);
        return specials.isSpecial(id) ? new String(tokenBytes[id], StandardCharsets.UTF_8) : ByteLevel.toPrintable(tokenBytes[id]);
    }

    @Override
    public synchronized int tokenToId(String token) {
        if (printableToId == null) {
            Map<String, Integer> m = new HashMap<>(tokenBytes.length * 2);
            for (int id = 0; id < tokenBytes.length; id++) if (tokenBytes[id] != null) m.putIfAbsent(idToToken(id), id);
            printableToId = m;
        }
        Integer id = printableToId.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public SpecialTokens specials() {
        return specials;
    }
}
