package dev.llmj.io;

import dev.llmj.LlmjException;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse("{\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\n\\u732b\\\"\", \"o\": {}}", "t");
        Map<String, Object> m = Json.obj(v, "t");
        assertEquals(List.of(1L, -2500.0, true, false), Json.arr(m.get("a"), "a").subList(0, 4));
        assertNull(Json.arr(m.get("a"), "a").get(4));
        assertEquals("x\n猫\"", m.get("s"));
        assertEquals(Map.of(), m.get("o"));
        assertEquals(List.of("a", "s", "o"), List.copyOf(m.keySet()), "key order is kept");
    }

    @Test
    void writesWhatItReads() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ids", new int[] {1, 2, 3});
        m.put("tokens", List.of("Ġthe", "\n", "猫", "😀", "\u0001"));
        m.put("x", 0.5);
        m.put("n", null);
        for (String s : List.of(Json.write(m), Json.pretty(m))) {
            Map<String, Object> back = Json.obj(Json.parse(s, "t"), "t");
            assertEquals(List.of(1L, 2L, 3L), back.get("ids"));
            assertEquals(m.get("tokens"), back.get("tokens"));
            assertEquals(0.5, back.get("x"));
        }
        assertEquals("{\"ids\":[1,2,3],\"tokens\":[\"Ġthe\",\"\\n\",\"猫\",\"😀\",\"\\u0001\"],\"x\":0.5,\"n\":null}", Json.write(m));
    }

    @Test
    void escapedSurrogatePairsNumbersAndDepth() {
        assertEquals("😀", Json.parse("\"\\uD83D\\uDE00\"", "t"));
        assertEquals(List.of(100000.0, -0.0, 0L, -7L, 1.5e-3), Json.parse("[1e5, -0.0, 0, -7, 1.5E-3]", "t"));
        String deep = "[".repeat(600) + "]".repeat(600);
        LlmjException e = assertThrows(LlmjException.class, () -> Json.parse(deep, "deep.json"));
        assertTrue(e.getMessage().contains("nested more than 512"), e.getMessage());
        String ok = "[".repeat(500) + "]".repeat(500);
        List<Object> outer = Json.arr(Json.parse(ok, "t"), "t"); // 500 levels are fine
        assertEquals(1, outer.size());
    }

    @Test
    void badJsonSaysWhereAndWhat() {
        LlmjException e = assertThrows(LlmjException.class, () -> Json.parse("{\n\"a\": [1, 2,, 3]}", "config.json"));
        assertTrue(e.getMessage().startsWith("config.json is not valid JSON") && e.getMessage().contains("line 2"), e.getMessage());
        assertThrows(LlmjException.class, () -> Json.parse("{\"a\": ", "x"));
        assertThrows(LlmjException.class, () -> Json.parse("[1] 2", "x"));
    }
}
