package dev.llmj.tokenizer;

import dev.llmj.LlmjException;
import dev.llmj.io.AtomicFiles;
import dev.llmj.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads and writes Hugging Face {@code tokenizer.json}, so a model folder carries its tokenizer
 * and folders move between llmj and {@code transformers}. The three kinds map onto Hugging Face's
 * models as follows:
 * <ul>
 *   <li>byte-level BPE: model {@code BPE} with a {@code ByteLevel} pre-tokenizer (GPT-2's regex),
 *       or a regex {@code Split} followed by {@code ByteLevel} (cl100k, Llama 3), and a
 *       {@code ByteLevel} decoder;</li>
 *   <li>char: model {@code WordLevel}, a {@code Split} that isolates every character, and the
 *       {@code Fuse} decoder (tokens joined with nothing between them);</li>
 *   <li>word: model {@code WordLevel}, a {@code Split} that drops spaces and tabs and isolates
 *       line breaks; decoding joins words with a space.</li>
 * </ul>
 * Tiktoken rank files ({@code *.tiktoken}) are read too, by {@link #read}.
 */
public final class TokenizerJson {
    private static final String ANY_CHAR = "[\\s\\S]";
    private static final String WORD_GAP = "[^\\S\\n]+";
    static final int MAX_VOCAB = 1 << 24;

    private TokenizerJson() {}

    // ---------------------------------------------------------------- reading

    /** Reads a {@code tokenizer.json}, or a tiktoken rank file if the name ends in {@code .tiktoken}. */
    public static Tokenizer read(Path file) {
        if (file.getFileName().toString().endsWith(".tiktoken")) return Tiktoken.read(file);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new LlmjException(file + ": no such tokenizer file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new LlmjException(file + " is not a tokenizer.json: it is not UTF-8 text");
        } catch (IOException e) {
            throw new LlmjException(file + ": cannot read: " + AtomicFiles.describe(e));
        }
        try {
            return parse(text, file.toString());
        } catch (ClassCastException | NullPointerException e) {
            throw new LlmjException(file + " is not a valid tokenizer.json: " + e.getMessage());
        }
    }

    /** Parses the text of a {@code tokenizer.json}; {@code what} names it in errors. */
    public static Tokenizer parse(String text, String what) {
        Map<String, Object> root = Json.obj(Json.parse(text, what), what);
        Map<String, Object> model = Json.obj(need(root, "model", what), what + " model");
        if (root.get("normalizer") != null) {
            throw new LlmjException(what + ": tokenizers with a normalizer are not supported yet ("
                    + Json.obj(root.get("normalizer"), "normalizer").get("type") + ")");
        }
        String type = model.containsKey("type") ? Json.str(model.get("type"), "model.type")
                : model.containsKey("merges") ? "BPE" : "WordLevel";
        List<Map<String, Object>> added = new ArrayList<>();
        if (root.get("added_tokens") != null) {
            for (Object o : Json.arr(root.get("added_tokens"), "added_tokens")) added.add(Json.obj(o, "an added token"));
        }
        return switch (type) {
            case "BPE" -> readBpe(root, model, added, what);
            case "WordLevel" -> readWordLevel(root, model, added, what);
            default -> throw new LlmjException(what + ": model type " + type + " is not supported (llmj reads BPE and WordLevel)");
        };
    }

    private static Object need(Map<String, Object> m, String key, String what) {
        if (!m.containsKey(key) || m.get(key) == null) throw new LlmjException(what + " has no \"" + key + "\"");
        return m.get(key);
    }

    /** A token id: an integer in [0, 2^24), so a corrupt file cannot ask for a giant table. */
    private static int id(Object v, String what) {
        long id = Json.num(v, what + ": a token id");
        if (id < 0 || id >= MAX_VOCAB) throw new LlmjException(what + ": token id " + id + " is out of range [0, " + MAX_VOCAB + ")");
        return (int) id;
    }

    private static Map<String, Integer> vocab(Map<String, Object> model, String what) {
        Map<String, Object> raw = Json.obj(need(model, "vocab", what + " model"), what + " model.vocab");
        Map<String, Integer> vocab = new LinkedHashMap<>(raw.size() * 2);
        for (Map.Entry<String, Object> e : raw.entrySet()) vocab.put(e.getKey(), id(e.getValue(), what));
        return vocab;
    }

    private static SpecialTokens specials(List<Map<String, Object>> added, String what) {
        List<SpecialTokens.Entry> entries = new ArrayList<>();
        for (Map<String, Object> t : added) {
            String content = Json.str(need(t, "content", what + " added token"), "content");
            entries.add(new SpecialTokens.Entry(SpecialTokens.roleOf(content), content, id(need(t, "id", what + " added token"), what)));
        }
        entries.sort(java.util.Comparator.comparingInt(SpecialTokens.Entry::id));
        return new SpecialTokens(entries);
    }

    private static Tokenizer readBpe(Map<String, Object> root, Map<String, Object> model, List<Map<String, Object>> added, String what) {
        if (Boolean.TRUE.equals(model.get("byte_fallback"))) {
            throw new LlmjException(what + ": BPE with byte_fallback (SentencePiece-style, as Llama 2) is not supported; llmj reads byte-level BPE");
        }
        for (String key : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (model.get(key) instanceof String s && !s.isEmpty()) {
                throw new LlmjException(what + ": BPE with a " + key + " is not byte-level BPE, which is what llmj reads");
            }
        }
        Object decoder = root.get("decoder");
        if (decoder != null && !"ByteLevel".equals(Json.obj(decoder, "decoder").get("type"))) {
            throw new LlmjException(what + ": decoder " + Json.obj(decoder, "decoder").get("type") + " is not supported; byte-level BPE decodes with ByteLevel");
        }
        Map<String, Integer> vocab = vocab(model, what);
        SpecialTokens specials = specials(added, what);
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (SpecialTokens.Entry e : specials.entries()) size = Math.max(size, e.id() + 1);
        byte[][] tokenBytes = new byte[size][];
        for (SpecialTokens.Entry e : specials.entries()) tokenBytes[e.id()] = e.text().getBytes(StandardCharsets.UTF_8);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (tokenBytes[e.getValue()] != null) continue; // an added token listed in the vocabulary too
            byte[] b = ByteLevel.fromPrintable(e.getKey());
            if (b == null) throw new LlmjException(what + ": token '" + e.getKey() + "' is not in byte-level form; only byte-level BPE is supported");
            tokenBytes[e.getValue()] = b;
        }
        List<Object> rawMerges = Json.arr(need(model, "merges", what + " model"), what + " model.merges");
        int[][] merges = new int[rawMerges.size()][];
        int[] ranks = new int[merges.length];
        for (int i = 0; i < merges.length; i++) {
            String left, right;
            Object o = rawMerges.get(i);
            if (o instanceof String s) {
                int sp = s.indexOf(' ');
                if (sp < 0) throw new LlmjException(what + ": merge " + (i + 1) + " '" + s + "' is not 'left right'");
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
            } else {
                List<Object> pair = Json.arr(o, "merge " + (i + 1));
                left = Json.str(pair.get(0), "merge");
                right = Json.str(pair.get(1), "merge");
            }
            Integer l = vocab.get(left), r = vocab.get(right), z = vocab.get(left + right);
            if (l == null || r == null || z == null) {
                throw new LlmjException(what + ": merge " + (i + 1) + " (" + left + " " + right + ") uses a token that is not in the vocabulary");
            }
            merges[i] = new int[] {l, r, z};
            ranks[i] = i;
        }
        // pre-tokenizer: ByteLevel (GPT-2's regex), or Split(regex) then ByteLevel(use_regex=false)
        String pattern = null;
        boolean prefixSpace = false;
        List<Map<String, Object>> steps = preTokenizerSteps(root, what);
        for (Map<String, Object> step : steps) {
            String t = Json.str(step.get("type"), "pre_tokenizer.type");
            switch (t) {
                case "ByteLevel" -> {
                    prefixSpace = Boolean.TRUE.equals(step.get("add_prefix_space"));
                    if (!Boolean.FALSE.equals(step.get("use_regex"))) {
                        if (pattern != null) throw new LlmjException(what + ": two pre-tokenisation regexes are not supported");
                        pattern = ByteBpeTokenizer.GPT2_PATTERN;
                    }
                }
                case "Split" -> {
                    if (pattern != null) throw new LlmjException(what + ": two pre-tokenisation regexes are not supported");
                    if (Boolean.TRUE.equals(step.get("invert")) || !"Isolated".equals(step.get("behavior"))) {
                        throw new LlmjException(what + ": only Split with behavior Isolated is supported before ByteLevel");
                    }
                    pattern = splitPattern(step, what);
                }
                default -> throw new LlmjException(what + ": pre-tokenizer " + t + " is not supported for byte-level BPE");
            }
        }
        if (pattern == null) throw new LlmjException(what + ": a byte-level BPE needs a ByteLevel pre-tokenizer");
        boolean ignoreMerges = Boolean.TRUE.equals(model.get("ignore_merges"));
        return new ByteBpeTokenizer(tokenBytes, merges, ranks, new ByteBpeTokenizer.Options(pattern, prefixSpace, ignoreMerges), specials);
    }

    private static List<Map<String, Object>> preTokenizerSteps(Map<String, Object> root, String what) {
        List<Map<String, Object>> steps = new ArrayList<>();
        Object pre = root.get("pre_tokenizer");
        if (pre == null) return steps;
        Map<String, Object> p = Json.obj(pre, what + " pre_tokenizer");
        if ("Sequence".equals(p.get("type"))) {
            for (Object o : Json.arr(p.get("pretokenizers"), "pre_tokenizer.pretokenizers")) steps.add(Json.obj(o, "a pre-tokenizer"));
        } else {
            steps.add(p);
        }
        return steps;
    }

    private static String splitPattern(Map<String, Object> step, String what) {
        Map<String, Object> pat = Json.obj(need(step, "pattern", what + " Split"), "Split.pattern");
        if (pat.containsKey("Regex")) return Json.str(pat.get("Regex"), "Split.pattern.Regex");
        if (pat.containsKey("String")) return Pattern.quote(Json.str(pat.get("String"), "Split.pattern.String"));
        throw new LlmjException(what + ": Split.pattern should hold Regex or String");
    }

    private static Tokenizer readWordLevel(Map<String, Object> root, Map<String, Object> model, List<Map<String, Object>> added, String what) {
        Map<String, Integer> vocab = vocab(model, what);
        List<String> tokens = new ArrayList<>(java.util.Collections.nCopies(vocab.size(), (String) null));
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (id < 0 || id >= tokens.size() || tokens.get(id) != null) {
                throw new LlmjException(what + ": WordLevel ids should run from 0 to " + (vocab.size() - 1) + " once each; id " + id + " breaks that");
            }
            tokens.set(id, e.getKey());
        }
        List<SpecialTokens.Entry> entries = new ArrayList<>(specials(added, what).entries());
        Object unk = model.get("unk_token");
        if (unk instanceof String u && vocab.containsKey(u) && entries.stream().noneMatch(e -> e.text().equals(u))) {
            entries.add(new SpecialTokens.Entry(SpecialTokens.Role.UNK, u, vocab.get(u)));
        }
        SpecialTokens specials = new SpecialTokens(entries);
        // llmj reads the two WordLevel layouts it writes; another cutting rule would encode differently
        Object pre = root.get("pre_tokenizer");
        if (split(ANY_CHAR, "Isolated").equals(pre)) return new CharTokenizer(tokens, specials);
        if (wordSplit().equals(pre)) return new WordTokenizer(tokens, specials);
        String type = pre == null ? "none" : String.valueOf(Json.obj(pre, "pre_tokenizer").get("type"));
        throw new LlmjException(what + ": a WordLevel tokenizer with pre_tokenizer " + type
                + " is not supported; llmj reads the char and word layouts that llmj train-tokenizer writes");
    }

    // ---------------------------------------------------------------- writing

    /** Writes {@code tok} as a Hugging Face {@code tokenizer.json}, atomically. */
    public static void write(Tokenizer tok, Path file) {
        AtomicFiles.writeString(file, toJson(tok));
    }

    /** The {@code tokenizer.json} text for {@code tok}. */
    public static String toJson(Tokenizer tok) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Object> added = new ArrayList<>();
        for (SpecialTokens.Entry e : tok.specials().entries()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", e.id());
            t.put("content", e.text());
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            added.add(t);
        }
        root.put("added_tokens", added);
        root.put("normalizer", null);
        switch (tok) {
            case ByteBpeTokenizer bpe -> writeBpe(bpe, root);
            case CharTokenizer c -> writeWordLevel(c, root, split(ANY_CHAR, "Isolated"), Map.of("type", "Fuse"));
            case WordTokenizer w -> writeWordLevel(w, root, wordSplit(), null);
            default -> throw new IllegalArgumentException("cannot write " + tok.getClass().getSimpleName());
        }
        return Json.pretty(root);
    }

    /** Words: drop runs of spaces and tabs, keep each line break as a token of its own. */
    private static Map<String, Object> wordSplit() {
        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("type", "Sequence");
        seq.put("pretokenizers", List.of(split(WORD_GAP, "Removed"), splitString("\n", "Isolated")));
        return seq;
    }

    private static Map<String, Object> split(String regex, String behavior) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("type", "Split");
        s.put("pattern", Map.of("Regex", regex));
        s.put("behavior", behavior);
        s.put("invert", false);
        return s;
    }

    private static Map<String, Object> splitString(String literal, String behavior) {
        Map<String, Object> s = split("", behavior);
        s.put("pattern", Map.of("String", literal));
        return s;
    }

    private static Map<String, Object> byteLevel(boolean prefixSpace, boolean trimOffsets, boolean useRegex) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("type", "ByteLevel");
        b.put("add_prefix_space", prefixSpace);
        b.put("trim_offsets", trimOffsets);
        b.put("use_regex", useRegex);
        return b;
    }

    private static void writeBpe(ByteBpeTokenizer bpe, Map<String, Object> root) {
        ByteBpeTokenizer.Options opt = bpe.options();
        if (opt.pattern().equals(ByteBpeTokenizer.GPT2_PATTERN)) {
            root.put("pre_tokenizer", byteLevel(opt.addPrefixSpace(), true, true));
        } else {
            Map<String, Object> seq = new LinkedHashMap<>();
            seq.put("type", "Sequence");
            seq.put("pretokenizers", List.of(split(opt.pattern(), "Isolated"), byteLevel(opt.addPrefixSpace(), true, false)));
            root.put("pre_tokenizer", seq);
        }
        root.put("post_processor", byteLevel(true, false, true));
        root.put("decoder", byteLevel(true, true, true));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        if (opt.ignoreMerges()) model.put("ignore_merges", true); // Llama 3 sets it; written only when set
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int id = 0; id < bpe.vocabSize(); id++) {
            if (bpe.hasToken(id) && !bpe.specials().isSpecial(id)) vocab.put(bpe.idToToken(id), id);
        }
        model.put("vocab", vocab);
        List<Object> merges = new ArrayList<>();
        Map<Long, Boolean> seen = new HashMap<>();
        for (int[] m : bpe.merges()) {
            if (seen.put(PairTable.key(m[0], m[1]), Boolean.TRUE) == null) merges.add(bpe.idToToken(m[0]) + " " + bpe.idToToken(m[1]));
        }
        model.put("merges", merges);
        root.put("model", model);
    }

    private static void writeWordLevel(VocabularyTokenizer tok, Map<String, Object> root, Map<String, Object> pre, Map<String, Object> decoder) {
        root.put("pre_tokenizer", pre);
        root.put("post_processor", null);
        root.put("decoder", decoder);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        Map<String, Object> vocab = new LinkedHashMap<>();
        List<String> tokens = tok.vocabulary();
        for (int id = 0; id < tokens.size(); id++) vocab.put(tokens.get(id), id);
        model.put("vocab", vocab);
        // Hugging Face maps unknown words to unk_token; with no <unk>, name one that is not in the
        // vocabulary, so an unknown word is an error there as it is here
        String unk = tok.specials().text(SpecialTokens.Role.UNK);
        if (unk == null) {
            unk = SpecialTokens.Role.UNK.defaultText;
            while (tok.tokenToId(unk) >= 0) unk = unk + "_";
        }
        model.put("unk_token", unk);
        root.put("model", model);
    }
}
