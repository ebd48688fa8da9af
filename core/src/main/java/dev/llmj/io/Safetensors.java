package dev.llmj.io;

import dev.llmj.LlmjException;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. llmj writes F32 and
 * reads F32, F16 and BF16 (widened to float).
 */
public final class Safetensors {
    /** One tensor: its shape and float values (row-major). */
    public record Tensor(int[] shape, float[] data) {}

    private Safetensors() {}

    /** Writes tensors in the given order, atomically, with optional string metadata. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", "F32");
            List<Object> shape = new ArrayList<>();
            for (int s : e.getValue().shape()) shape.add(s);
            t.put("shape", shape);
            long bytes = 4L * e.getValue().data().length;
            t.put("data_offsets", List.of(offset, offset + bytes));
            offset += bytes;
            header.put(e.getKey(), t);
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // the data starts 8-byte aligned
        byte[] padded = new byte[json.length + pad];
        System.arraycopy(json, 0, padded, 0, json.length);
        java.util.Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            DataOutputStream o = new DataOutputStream(out);
            o.writeLong(Long.reverseBytes(padded.length));
            o.write(padded);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors.values()) {
                for (float f : t.data()) {
                    if (!buf.hasRemaining()) {
                        o.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(f);
                }
            }
            o.write(buf.array(), 0, buf.position());
            o.flush();
        });
    }

    /** Reads every tensor (and the metadata under the key "__metadata__" as a tensor-less entry is skipped). */
    public static Map<String, Tensor> read(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        read(file, out::put);
        return out;
    }

    /**
     * Reads the tensors one at a time, in the header's order, handing each to {@code each} and keeping
     * none: a model that copies each into its own arrays never holds its weights twice.
     */
    public static void read(Path file, java.util.function.BiConsumer<String, Tensor> each) {
        read(file, name -> null, each);
    }

    /**
     * The same, reading each tensor's values straight into {@code into.apply(name)} when that gives an
     * array of exactly the tensor's size (a model's own parameter: then no copy of it is ever made),
     * else into a fresh array.
     */
    public static void read(Path file, java.util.function.Function<String, float[]> into, java.util.function.BiConsumer<String, Tensor> each) {
        if (!Files.isRegularFile(file)) throw new LlmjException(file + " does not exist");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw corrupt(file, "shorter than its header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > size) throw corrupt(file, "bad header length " + headerLen);
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            Map<String, Object> header = Json.obj(Json.parse(new String(hb.array(), StandardCharsets.UTF_8), file.toString()), file.toString());
            long dataStart = 8 + headerLen;
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<String, Object> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                Map<String, Object> t = Json.obj(e.getValue(), e.getKey());
                String dtype = Json.str(t.get("dtype"), e.getKey() + ".dtype");
                List<Object> shapeList = Json.arr(t.get("shape"), e.getKey() + ".shape");
                List<Object> offs = Json.arr(t.get("data_offsets"), e.getKey() + ".data_offsets");
                int[] shape = new int[shapeList.size()];
                long n = 1;
                for (int i = 0; i < shape.length; i++) {
                    long dim = Json.num(shapeList.get(i), "shape");
                    if (dim < 0 || dim > Integer.MAX_VALUE || (n *= dim) > Integer.MAX_VALUE) throw corrupt(file, "tensor " + e.getKey() + " has an impossible shape");
                    shape[i] = (int) dim;
                }
                if (offs.size() != 2) throw corrupt(file, "tensor " + e.getKey() + " needs two data_offsets");
                long begin = Json.num(offs.get(0), "offset"), end = Json.num(offs.get(1), "offset");
                int width = switch (dtype) {
                    case "F32" -> 4;
                    case "F16", "BF16" -> 2;
                    default -> throw new LlmjException(file + ": tensor " + e.getKey() + " has dtype " + dtype + "; llmj reads F32, F16 and BF16");
                };
                if (begin < 0 || end != begin + n * width || dataStart + end > size) {
                    throw corrupt(file, "tensor " + e.getKey() + " does not fit its byte range");
                }
                float[] f = into.apply(e.getKey());
                if (f == null || f.length != n) f = new float[(int) n];
                for (int i0 = 0; i0 < n; ) { // through one small buffer: a tensor never exists twice in memory
                    int count = (int) Math.min(n - i0, chunk.capacity() / width);
                    chunk.clear().limit(count * width);
                    readFully(ch, chunk, dataStart + begin + (long) i0 * width);
                    for (int i = 0; i < count; i++) {
                        f[i0 + i] = switch (dtype) {
                            case "F32" -> chunk.getFloat(4 * i);
                            case "F16" -> Float.float16ToFloat(chunk.getShort(2 * i));
                            default -> Float.intBitsToFloat((chunk.getShort(2 * i) & 0xFFFF) << 16);
                        };
                    }
                    i0 += count;
                }
                each.accept(e.getKey(), new Tensor(shape, f));
            }
        } catch (IOException e) {
            throw new LlmjException("cannot read " + file + ": " + AtomicFiles.describe(e));
        }
    }

    /** The "__metadata__" strings of a safetensors file. */
    public static Map<String, String> metadata(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > ch.size()) throw corrupt(file, "bad header length " + headerLen);
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            Map<String, Object> header = Json.obj(Json.parse(new String(hb.array(), StandardCharsets.UTF_8), file.toString()), file.toString());
            Map<String, String> md = new LinkedHashMap<>();
            if (header.get("__metadata__") instanceof Map<?, ?> m) m.forEach((k, v) -> md.put(String.valueOf(k), String.valueOf(v)));
            return md;
        } catch (IOException e) {
            throw new LlmjException("cannot read " + file + ": " + AtomicFiles.describe(e));
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static LlmjException corrupt(Path file, String why) {
        return new LlmjException(file + " is not a valid safetensors file (" + why + ")");
    }
}
