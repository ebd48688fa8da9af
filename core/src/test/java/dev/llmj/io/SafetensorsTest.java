package dev.llmj.io;

import dev.llmj.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** Tensors longer than the reader's 1 MB buffer, at offsets that are not multiples of it, come back exactly. */
    @Test
    void tensorsLargerThanTheReadBufferRoundTrip() {
        Rng r = new Rng(4);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (int[] shape : new int[][] {{3}, {601, 500}, {262_144}, {7, 1}}) {
            float[] f = new float[shape.length == 1 ? shape[0] : shape[0] * shape[1]];
            for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
            t.put("t" + t.size(), new Safetensors.Tensor(shape, f));
        }
        Path file = dir.resolve("a.safetensors");
        Safetensors.write(file, t, Map.of("format", "pt"));
        Map<String, Safetensors.Tensor> back = Safetensors.read(file);
        assertEquals(List.copyOf(t.keySet()), List.copyOf(back.keySet()));
        for (String k : t.keySet()) {
            assertArrayEquals(t.get(k).shape(), back.get(k).shape(), k);
            assertArrayEquals(t.get(k).data(), back.get(k).data(), 0f, k);
        }
        float[] mine = new float[601 * 500], wrongSize = new float[5];          // read in place when the size fits, else fresh
        Map<String, float[]> got = new LinkedHashMap<>();
        Safetensors.read(file, name -> name.equals("t1") ? mine : name.equals("t2") ? wrongSize : null, (name, tensor) -> got.put(name, tensor.data()));
        org.junit.jupiter.api.Assertions.assertSame(mine, got.get("t1"));
        assertArrayEquals(t.get("t1").data(), mine, 0f);
        assertArrayEquals(t.get("t2").data(), got.get("t2"), 0f);
        assertArrayEquals(new float[5], wrongSize, 0f);
        List<String> order = new ArrayList<>();
        Safetensors.read(file, (name, tensor) -> order.add(name)); // one at a time, in the header's order
        assertEquals(List.of("t0", "t1", "t2", "t3"), order);
    }

    /** 16-bit tensors (F16, BF16) are widened to float, also across the read buffer's boundaries. */
    @Test
    void halfPrecisionTensorsAreWidened() throws Exception {
        int n = 700_001; // 1.4 MB of 16-bit values: two buffers and a bit
        short[] half = new short[n], brain = new short[n];
        Rng r = new Rng(9);
        for (int i = 0; i < n; i++) {
            float v = (float) r.nextGaussian();
            half[i] = Float.floatToFloat16(v);
            brain[i] = (short) (Float.floatToIntBits(v) >>> 16);
        }
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[0," + 2 * n + "]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[" + n + "],\"data_offsets\":[" + 2 * n + "," + 4 * n + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        for (short s : half) buf.putShort(s);
        for (short s : brain) buf.putShort(s);
        Path file = dir.resolve("h.safetensors");
        Files.write(file, buf.array());
        Map<String, Safetensors.Tensor> t = Safetensors.read(file);
        float[] h = t.get("h").data(), b = t.get("b").data();
        for (int i = 0; i < n; i++) {
            assertEquals(Float.float16ToFloat(half[i]), h[i], 0f, "F16 " + i);
            assertEquals(Float.intBitsToFloat((brain[i] & 0xFFFF) << 16), b[i], 0f, "BF16 " + i);
        }
    }
}
