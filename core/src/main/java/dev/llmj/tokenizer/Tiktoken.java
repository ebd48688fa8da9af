package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tiktoken rank files ({@code r50k_base}, {@code p50k_base}, {@code cl100k_base},
 * {@code o200k_base}): one {@code base64(token bytes) rank} per line, where a token's rank is also
 * its id. tiktoken merges the adjacent pair whose concatenation has the lowest rank, so every
 * split of a token into two tokens becomes a merge of that token's rank.
 */
public final class Tiktoken {

    /** The pre-tokenisation pattern and special tokens that go with a rank file. */
    public record Encoding(String name, String pattern, Map<String, Integer> specials) {}

    public static final Encoding R50K = new Encoding("r50k_base", ByteBpeTokenizer.GPT2_PATTERN,
            Map.of(SpecialTokens.ENDOFTEXT, 50256));
    public static final Encoding P50K = new Encoding("p50k_base", ByteBpeTokenizer.GPT2_PATTERN,
            Map.of(SpecialTokens.ENDOFTEXT, 50256));
    public static final Encoding CL100K = new Encoding("cl100k_base",
            "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
            Map.of(SpecialTokens.ENDOFTEXT, 100257, "<|fim_prefix|>", 100258, "<|fim_middle|>", 100259,
                    "<|fim_suffix|>", 100260, "<|endofprompt|>", 100276));
    public static final Encoding O200K = new Encoding("o200k_base", String.join("|",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            "\\p{N}{1,3}",
            " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
            "\\s*[\\r\\n]+",
            "\\s+(?!\\S)",
            "\\s+"),
            Map.of(SpecialTokens.ENDOFTEXT, 199999, "<|endofprompt|>", 200018));

    private static final List<Encoding> KNOWN = List.of(R50K, P50K, CL100K, O200K);

    private Tiktoken() {}

    /** The encoding a file name such as {@code cl100k_base.tiktoken} names, or null. */
    public static Encoding byFileName(Path file) {
        String name = file.getFileName().toString();
        for (Encoding e : KNOWN) if (name.startsWith(e.name())) return e;
        return null;
    }

    /** Reads a rank file whose name says which encoding it is ({@code cl100k_base.tiktoken}, …). */
    public static ByteBpeTokenizer read(Path file) {
        Encoding enc = byFileName(file);
        if (enc == null) {
            throw new LlmjException(file + ": cannot tell which tiktoken encoding this is; name it r50k_base, p50k_base, cl100k_base or o200k_base");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, enc, file.toString());
        } catch (NoSuchFileException e) {
            throw new LlmjException(file + ": no such file");
        } catch (IOException e) {
            throw new LlmjException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** Reads rank-file lines from {@code in} and builds the tokenizer of encoding {@code enc}. */
    public static ByteBpeTokenizer read(InputStream in, Encoding enc, String what) throws IOException {
        Map<String, Integer> ranks = new HashMap<>(1 << 18); // token bytes as Latin-1 text → rank
        List<byte[]> byRank = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
        String line;
        int lineNo = 0;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isEmpty()) continue;
            int sp = line.indexOf(' ');
            byte[] bytes;
            int rank;
            try {
                bytes = Base64.getDecoder().decode(line.substring(0, sp));
                rank = Integer.parseInt(line.substring(sp + 1).trim());
            } catch (RuntimeException e) {
                throw new LlmjException(what + ": line " + lineNo + " is not 'base64 rank'");
            }
            if (rank < 0 || rank >= TokenizerJson.MAX_VOCAB || bytes.length == 0) {
                throw new LlmjException(what + ": line " + lineNo + " has rank " + rank + (bytes.length == 0 ? " for an empty token" : ", outside [0, " + TokenizerJson.MAX_VOCAB + ")"));
            }
            while (byRank.size() <= rank) byRank.add(null);
            byRank.set(rank, bytes);
            ranks.put(new String(bytes, StandardCharsets.ISO_8859_1), rank);
        }
        int size = byRank.size();
        for (int id : enc.specials().values()) size = Math.max(size, id + 1);
        byte[][] tokenBytes = new byte[size][];
        for (int i = 0; i < byRank.size(); i++) tokenBytes[i] = byRank.get(i);

        List<int[]> merges = new ArrayList<>();
        for (int rank = 0; rank < byRank.size(); rank++) {
            byte[] b = byRank.get(rank);
            if (b == null || b.length < 2) continue;
            String s = new String(b, StandardCharsets.ISO_8859_1);
            for (int k = 1; k < s.length(); k++) {
                Integer left = ranks.get(s.substring(0, k)), right = ranks.get(s.substring(k));
                if (left != null && right != null) merges.add(new int[] {left, right, rank});
            }
        }
        int[][] mergeArray = merges.toArray(int[][]::new);
        int[] mergeRanks = new int[mergeArray.length];
        for (int i = 0; i < mergeRanks.length; i++) mergeRanks[i] = mergeArray[i][2];

        List<SpecialTokens.Entry> specials = new ArrayList<>();
        enc.specials().entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> {
            tokenBytes[e.getValue()] = e.getKey().getBytes(StandardCharsets.UTF_8);
            specials.add(new SpecialTokens.Entry(SpecialTokens.roleOf(e.getKey()), e.getKey(), e.getValue()));
        });
        return new ByteBpeTokenizer(tokenBytes, mergeArray, mergeRanks, ByteBpeTokenizer.Options.of(enc.pattern()), new SpecialTokens(specials));
    }
}
