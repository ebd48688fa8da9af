package dev.llmj.tokenizer;

import dev.llmj.LlmjException;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The special tokens a tokenizer has, each with its role (end of sequence, padding, …), its text
 * and its id. A tokenizer may have none of them: nanoGPT's character vocabulary has none.
 */
public final class SpecialTokens {

    /** What a special token is for. */
    public enum Role {
        BOS("<bos>"), EOS("<eos>"), PAD("<pad>"), UNK("<unk>"), MASK("<mask>");

        /** The text llmj gives this role's token unless told otherwise. */
        public final String defaultText;

        Role(String defaultText) {
            this.defaultText = defaultText;
        }

        /** Parses "eos", "EOS", … with a clear error for anything else. */
        public static Role parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new LlmjException("unknown special token '" + name + "': use eos, bos, pad, unk or mask");
            }
        }
    }

    /** One special token. {@code role} is null for a special token with no llmj role (say {@code <|fim_prefix|>}). */
    public record Entry(Role role, String text, int id) {}

    /** The text GPT-2's byte-level BPE uses for end of text; llmj's byte-level BPE uses it too. */
    public static final String ENDOFTEXT = "<|endoftext|>";

    private static final Map<String, Role> KNOWN = Map.ofEntries(
            Map.entry("<bos>", Role.BOS), Map.entry("<s>", Role.BOS), Map.entry("<|begin_of_text|>", Role.BOS),
            Map.entry("[CLS]", Role.BOS),
            Map.entry("<eos>", Role.EOS), Map.entry("</s>", Role.EOS), Map.entry(ENDOFTEXT, Role.EOS),
            Map.entry("<|end_of_text|>", Role.EOS), Map.entry("[SEP]", Role.EOS),
            Map.entry("<pad>", Role.PAD), Map.entry("[PAD]", Role.PAD), Map.entry("<|pad|>", Role.PAD),
            Map.entry("<unk>", Role.UNK), Map.entry("[UNK]", Role.UNK),
            Map.entry("<mask>", Role.MASK), Map.entry("[MASK]", Role.MASK));

    private final List<Entry> entries;
    private final EnumMap<Role, Entry> byRole = new EnumMap<>(Role.class);
    private final java.util.Set<Integer> ids = new java.util.HashSet<>();

    public SpecialTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        for (Entry e : entries) {
            if (e.role() != null) byRole.putIfAbsent(e.role(), e);
            ids.add(e.id());
        }
    }

    public static SpecialTokens none() {
        return new SpecialTokens(List.of());
    }

    /** The role a special token's text conventionally has ({@code "</s>"} → EOS), or null. */
    public static Role roleOf(String text) {
        return KNOWN.get(text);
    }

    /** Every special token, in id order as given. */
    public List<Entry> entries() {
        return entries;
    }

    public boolean has(Role role) {
        return byRole.containsKey(role);
    }

    /** The id of the token with this role, or -1 if the tokenizer has none. */
    public int id(Role role) {
        Entry e = byRole.get(role);
        return e == null ? -1 : e.id();
    }

    /** The text of the token with this role, or null. */
    public String text(Role role) {
        Entry e = byRole.get(role);
        return e == null ? null : e.text();
    }

    /** Whether {@code id} is one of the special tokens. */
    public boolean isSpecial(int id) {
        return ids.contains(id);
    }

    /** Parses a comma-separated list of roles ("eos,pad"); "none" or "" is the empty list. */
    public static List<Role> parseRoles(String spec) {
        List<Role> roles = new ArrayList<>();
        if (spec == null || spec.isBlank() || spec.trim().equalsIgnoreCase("none")) return roles;
        for (String part : spec.split(",")) {
            Role r = Role.parse(part);
            if (!roles.contains(r)) roles.add(r);
        }
        return roles;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Entry e : entries) parts.add(e.text() + "=" + e.id());
        return String.join(", ", parts);
    }
}
