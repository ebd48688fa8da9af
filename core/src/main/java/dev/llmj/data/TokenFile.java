package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.io.AtomicFiles;
import dev.llmj.tokenizer.SpecialTokens;
import dev.llmj.tokenizer.Tokenizer;
import dev.llmj.tokenizer.TokenizerJson;

import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A corpus encoded once into token ids and kept on disk, memory-mapped when read: 2 bytes a token
 * when the vocabulary fits in 16 bits, else 4. Layout (little-endian):
 * <pre>
 *   0  "LLMJTOK1"                 magic
 *   8  int   bytes per token      2 or 4
 *  12  int   vocabulary size
 *  16  long  token count
 *  24  long  fingerprint          of the tokenizer and the source, to tell when to re-encode
 *  32  ids…
 * </pre>
 * Documents are separated by the tokenizer's {@code <eos>} where it has one.
 */
public final class TokenFile implements AutoCloseable {
    private static final byte[] MAGIC = "LLMJTOK1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int HEADER = 32;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment seg;
    private final int bytesPerToken;
    private final int vocabSize;
    private final long size;
    private final long fingerprint;

    private TokenFile(Path path, Arena arena, MemorySegment seg, int bytesPerToken, int vocabSize, long size, long fingerprint) {
        this.path = path;
        this.arena = arena;
        this.seg = seg;
        this.bytesPerToken = bytesPerToken;
        this.vocabSize = vocabSize;
        this.size = size;
        this.fingerprint = fingerprint;
    }

    /** Encodes {@code documents} with {@code tok} and writes them to {@code out} (atomically). */
    public static void write(Path out, Tokenizer tok, List<String> documents, long fingerprint) {
        int bpt = tok.vocabSize() <= 65536 ? 2 : 4;
        int eos = tok.specials().id(SpecialTokens.Role.EOS);
        int[][] encoded = new int[documents.size()][];
        long count = 0;
        for (int d = 0; d < encoded.length; d++) {
            encoded[d] = tok.encode(documents.get(d));
            count += encoded[d].length + (eos >= 0 && d + 1 < encoded.length ? 1 : 0);
        }
        final long total = count;
        AtomicFiles.write(out, stream -> {
            DataOutputStream o = new DataOutputStream(stream);
            o.write(MAGIC);
            o.writeInt(Integer.reverseBytes(bpt));
            o.writeInt(Integer.reverseBytes(tok.vocabSize()));
            o.writeLong(Long.reverseBytes(total));
            o.writeLong(Long.reverseBytes(fingerprint));
            for (int d = 0; d < encoded.length; d++) {
                for (int id : encoded[d]) writeId(o, id, bpt);
                if (eos >= 0 && d + 1 < encoded.length) writeId(o, eos, bpt);
            }
            o.flush();
        });
    }

    private static void writeId(DataOutputStream o, int id, int bpt) throws IOException {
        if (bpt == 2) o.writeShort(Short.reverseBytes((short) id));
        else o.writeInt(Integer.reverseBytes(id));
    }

    /** Maps a token file for reading; a clear error if it is missing, truncated or not a token file. */
    public static TokenFile open(Path path) {
        if (!Files.isRegularFile(path)) throw new LlmjException("token file " + path + " does not exist");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long bytes = ch.size();
            if (bytes < HEADER) throw corrupt(path, "it is shorter than its header");
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
            for (int i = 0; i < MAGIC.length; i++) {
                if (seg.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) throw corrupt(path, "it does not start with LLMJTOK1");
            }
            int bpt = seg.get(U32, 8);
            int vocab = seg.get(U32, 12);
            long count = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 16);
            long fp = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 24);
            if (bpt != 2 && bpt != 4) throw corrupt(path, "bytes per token is " + bpt);
            if (count < 0 || count > (bytes - HEADER) / bpt || HEADER + count * bpt != bytes) {
                throw corrupt(path, "it should hold " + count + " tokens (" + (HEADER + count * bpt) + " bytes) but has " + bytes + " bytes");
            }
            return new TokenFile(path, arena, seg, bpt, vocab, count, fp);
        } catch (IOException e) {
            arena.close();
            throw new LlmjException("cannot read token file " + path + ": " + AtomicFiles.describe(e));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LlmjException corrupt(Path path, String why) {
        return new LlmjException("token file " + path + " is corrupt (" + why + "); delete it and it will be rebuilt");
    }

    /**
     * The token file for {@code corpus} under {@code tok} at {@code out}: reused when its
     * fingerprint matches, encoded afresh (atomically) when it is missing or stale.
     */
    public static TokenFile prepare(Path corpus, Tokenizer tok, Path out) {
        long fp = fingerprint(corpus, tok);
        if (Files.isRegularFile(out)) {
            try {
                TokenFile f = open(out);
                if (f.fingerprint == fp && f.vocabSize == tok.vocabSize()) return f;
                f.close();
            } catch (LlmjException stale) {
                // fall through and rebuild it
            }
        }
        write(out, tok, Corpus.documents(corpus), fp);
        return open(out);
    }

    /** A hash of the whole tokenizer (its tokenizer.json) and the corpus files' names, sizes and times. */
    static long fingerprint(Path corpus, Tokenizer tok) {
        long h = 0xcbf29ce484222325L;
        String json = TokenizerJson.toJson(tok);
        for (int i = 0; i < json.length(); i++) h = mix(h, json.charAt(i));
        try {
            for (Path p : Corpus.files(corpus)) {
                h = mix(h, p.getFileName().toString().hashCode());
                h = mix(h, Files.size(p));
                h = mix(h, Files.getLastModifiedTime(p).toMillis());
            }
        } catch (IOException e) {
            throw new LlmjException("cannot read corpus " + corpus + ": " + AtomicFiles.describe(e));
        }
        return h;
    }

    private static long mix(long h, long v) { // FNV-1a step
        return (h ^ v) * 0x100000001b3L;
    }

    public Path path() {
        return path;
    }

    /** How many tokens the file holds. */
    public long size() {
        return size;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** The id at position {@code i}. */
    public int get(long i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("token " + i + " of " + size);
        long at = HEADER + i * bytesPerToken;
        return bytesPerToken == 2 ? seg.get(U16, at) & 0xFFFF : seg.get(U32, at);
    }

    /** Copies {@code len} ids from position {@code from} into {@code dst[off…]}. */
    public void read(long from, int[] dst, int off, int len) {
        if (from < 0 || from + len > size) throw new IndexOutOfBoundsException("tokens " + from + "+" + len + " of " + size);
        long at = HEADER + from * bytesPerToken;
        if (bytesPerToken == 2) {
            for (int i = 0; i < len; i++) dst[off + i] = seg.get(U16, at + 2L * i) & 0xFFFF;
        } else {
            MemorySegment.copy(seg, U32, at, dst, off, len);
        }
    }

    /** Tokens {@code [from, to)} as a view. */
    public Slice slice(long from, long to) {
        if (from < 0 || to > size || from > to) throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + size);
        return new Slice(this, from, to - from);
    }

    /**
     * The train/validation split: validation is the last {@code valFraction} of the tokens (10% by
     * default in the CLI), training everything before it, so the two never overlap.
     */
    public Slice[] split(double valFraction) {
        if (!(valFraction >= 0 && valFraction < 1)) throw new LlmjException("validation fraction must be in [0, 1): " + valFraction);
        long nVal = (long) Math.floor(size * valFraction);
        return new Slice[] {slice(0, size - nVal), slice(size - nVal, size)};
    }

    /** A contiguous run of a token file's ids. */
    public record Slice(TokenFile file, long start, long length) {
        public int get(long i) {
            if (i < 0 || i >= length) throw new IndexOutOfBoundsException("token " + i + " of " + length);
            return file.get(start + i);
        }

        public void read(long from, int[] dst, int off, int len) {
            if (from < 0 || from + len > length) throw new IndexOutOfBoundsException("tokens " + from + "+" + len + " of " + length);
            file.read(start + from, dst, off, len);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
