package dev.llmj.io;

import dev.llmj.LlmjException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer, so that core needs nothing but the JDK. Objects read as
 * {@link LinkedHashMap} (key order kept), arrays as {@link List}, numbers as {@link Long} when
 * integral and {@link Double} otherwise, plus {@link String}, {@link Boolean} and {@code null}.
 */
public final class Json {
    private static final int MAX_DEPTH = 512;
    private final String s;
    private int pos;
    private int depth;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; {@code what} names the source in error messages. */
    public static Object parse(String text, String what) {
        Json p = new Json(text);
        try {
            p.skipWs();
            Object v = p.value();
            p.skipWs();
            if (p.pos != text.length()) throw p.error("unexpected text after the JSON value");
            return v;
        } catch (StringIndexOutOfBoundsException e) {
            throw new LlmjException(what + " is not valid JSON: it ends too early");
        } catch (IllegalStateException e) {
            throw new LlmjException(what + " is not valid JSON: " + e.getMessage());
        }
    }

    private IllegalStateException error(String msg) {
        int line = 1;
        for (int i = 0; i < pos && i < s.length(); i++) if (s.charAt(i) == '\n') line++;
        return new IllegalStateException(msg + " (line " + line + ")");
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') pos++;
            else break;
        }
    }

    private Object value() {
        char c = s.charAt(pos);
        switch (c) {
            case '{': return object();
            case '[': return array();
            case '"': return string();
            case 't': literal("true"); return Boolean.TRUE;
            case 'f': literal("false"); return Boolean.FALSE;
            case 'n': literal("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character '" + c + "'");
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, pos)) throw error("expected " + word);
        pos += word.length();
    }

    private void enter() {
        if (++depth > MAX_DEPTH) throw error("nested more than " + MAX_DEPTH + " levels deep");
    }

    private Map<String, Object> object() {
        enter();
        Map<String, Object> m = new LinkedHashMap<>();
        pos++;
        skipWs();
        if (s.charAt(pos) == '}') { pos++; depth--; return m; }
        while (true) {
            skipWs();
            if (s.charAt(pos) != '"') throw error("expected a string key");
            String k = string();
            skipWs();
            if (s.charAt(pos) != ':') throw error("expected ':'");
            pos++;
            skipWs();
            m.put(k, value());
            skipWs();
            char c = s.charAt(pos++);
            if (c == '}') { depth--; return m; }
            if (c != ',') { pos--; throw error("expected ',' or '}'"); }
        }
    }

    private List<Object> array() {
        enter();
        List<Object> a = new ArrayList<>();
        pos++;
        skipWs();
        if (s.charAt(pos) == ']') { pos++; depth--; return a; }
        while (true) {
            skipWs();
            a.add(value());
            skipWs();
            char c = s.charAt(pos++);
            if (c == ']') { depth--; return a; }
            if (c != ',') { pos--; throw error("expected ',' or ']'"); }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = null;
        int start = pos;
        while (true) {
            char c = s.charAt(pos);
            if (c == '"') {
                String out = b == null ? s.substring(start, pos) : b.append(s, start, pos).toString();
                pos++;
                return out;
            }
            if (c == '\\') {
                if (b == null) b = new StringBuilder();
                b.append(s, start, pos);
                char e = s.charAt(pos + 1);
                pos += 2;
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        try {
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
                start = pos;
            } else if (c < 0x20) {
                throw error("control character in a string");
            } else {
                pos++;
            }
        }
    }

    private Object number() {
        int start = pos;
        boolean integral = true;
        if (s.charAt(pos) == '-') pos++;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c >= '0' && c <= '9') pos++;
            else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integral = false; pos++; }
            else break;
        }
        String t = s.substring(start, pos);
        try {
            if (integral) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException big) {
                    return Double.parseDouble(t);
                }
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw error("bad number " + t);
        }
    }

    // ---------------------------------------------------------------- writing

    /** Writes a value as compact JSON. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, -1, 0);
        return b.toString();
    }

    /** Writes a value as JSON indented by two spaces; arrays of scalars stay on one line. */
    public static String pretty(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, 2, 0);
        return b.append('\n').toString();
    }

    private static void write(StringBuilder b, Object v, int indent, int depth) {
        switch (v) {
            case null -> b.append("null");
            case String str -> quote(b, str);
            case Boolean bo -> b.append(bo);
            case Double d -> number(b, d);
            case Float f -> number(b, f.doubleValue());
            case Number n -> b.append(n.longValue());
            case Map<?, ?> m -> {
                if (m.isEmpty()) { b.append("{}"); return; }
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    newline(b, indent, depth + 1);
                    quote(b, String.valueOf(e.getKey()));
                    b.append(indent >= 0 ? ": " : ":");
                    write(b, e.getValue(), indent, depth + 1);
                }
                newline(b, indent, depth);
                b.append('}');
            }
            case List<?> l -> {
                boolean flat = indent < 0 || l.stream().noneMatch(x -> x instanceof Map || x instanceof List<?> y && !y.isEmpty());
                if (l.isEmpty()) { b.append("[]"); return; }
                b.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) b.append(flat && indent >= 0 ? ", " : ",");
                    if (!flat) newline(b, indent, depth + 1);
                    write(b, l.get(i), flat ? -1 : indent, depth + 1);
                }
                if (!flat) newline(b, indent, depth);
                b.append(']');
            }
            case int[] a -> {
                List<Object> l = new ArrayList<>(a.length);
                for (int x : a) l.add(x);
                write(b, l, indent, depth);
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
        }
    }

    private static void number(StringBuilder b, double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) b.append("null");
        else if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d).append(".0");
        else b.append(d);
    }

    private static void newline(StringBuilder b, int indent, int depth) {
        if (indent < 0) return;
        b.append('\n');
        b.repeat(' ', indent * depth);
    }

    /** Appends {@code str} as a JSON string literal; non-ASCII characters are written as they are. */
    public static void quote(StringBuilder b, String str) {
        b.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogateAt(str, i)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    // ---------------------------------------------------------------- typed access

    /** The object {@code v} as a map, or an error naming {@code what}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Object v, String what) {
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new LlmjException(what + " should be a JSON object");
    }

    @SuppressWarnings("unchecked")
    public static List<Object> arr(Object v, String what) {
        if (v instanceof List<?> l) return (List<Object>) l;
        throw new LlmjException(what + " should be a JSON array");
    }

    public static String str(Object v, String what) {
        if (v instanceof String str) return str;
        throw new LlmjException(what + " should be a JSON string");
    }

    public static long num(Object v, String what) {
        if (v instanceof Long l) return l;
        if (v instanceof Double d && d == Math.rint(d)) return d.longValue();
        throw new LlmjException(what + " should be an integer");
    }
}
