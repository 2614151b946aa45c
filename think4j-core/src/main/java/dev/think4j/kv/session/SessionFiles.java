package dev.think4j.kv.session;

import dev.think4j.Think4jException;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.StateReader;
import dev.think4j.kv.StateWriter;
import dev.think4j.model.Model;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Session files: a sequence's KV cache saved as it is stored (pruned channels compacted, codes
 * still quantized, evicted tokens gone), with the token ids it consumed, so a conversation can
 * continue later, elsewhere, or in another process, exactly as if it had not stopped.
 *
 * <pre>
 * offset      size  content (little-endian)
 * 0           8     magic "T4JKVSES"
 * 8           4     format version (1)
 * 12          4     header length H
 * 16          H     header: model identity (architecture, name, layers, heads, KV heads, head dim,
 *                   vocabulary, fingerprint), --kv spec, token count, position, save time
 * 16+H        8     payload length P
 * 24+H        P     payload: token ids (count, then int32 each), then the cache state
 * 24+H+P      4     CRC32C of bytes 8 .. 24+H+P (everything after the magic)
 * </pre>
 *
 * Reading checks, in this order, the magic, the version, the lengths (truncation) and the checksum,
 * and fails with one line naming the problem; the model and {@code --kv} spec are checked when the
 * cache is restored ({@link SessionFile}).
 */
public final class SessionFiles {
    public static final int FORMAT_VERSION = 1;
    static final byte[] MAGIC = "T4JKVSES".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEADER = 1 << 20;

    private SessionFiles() {
    }

    /** The session of {@code cache} (belonging to {@code model}) after consuming {@code tokens}, as bytes. */
    public static byte[] toBytes(Model model, CompressedKvCache cache, int[] tokens) {
        return toBytes(model, cache, tokens, Map.of());
    }

    /** As above, with application data stored in the header (see {@link SessionHeader#extras()}). */
    public static byte[] toBytes(Model model, CompressedKvCache cache, int[] tokens, Map<String, String> extras) {
        return encode(model, cache, tokens, extras).toByteArray();
    }

    /** Writes the session to a stream (not closed). */
    public static void write(OutputStream out, Model model, CompressedKvCache cache, int[] tokens) throws IOException {
        write(out, model, cache, tokens, Map.of());
    }

    public static void write(OutputStream out, Model model, CompressedKvCache cache, int[] tokens, Map<String, String> extras)
            throws IOException {
        encode(model, cache, tokens, extras).writeTo(out);
    }

    /**
     * Saves the session to {@code file} through a temporary file in the same directory, moved into
     * place, so a reader never sees half a file and a failed save leaves an older one intact.
     */
    public static void save(Path file, Model model, CompressedKvCache cache, int[] tokens) {
        save(file, model, cache, tokens, Map.of());
    }

    public static void save(Path file, Model model, CompressedKvCache cache, int[] tokens, Map<String, String> extras) {
        StateWriter w = encode(model, cache, tokens, extras);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                w.writeTo(out);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (NoSuchFileException e) {
            throw new Think4jException("cannot save session to " + file + ": directory " + dir + " does not exist");
        } catch (IOException e) {
            throw new Think4jException("cannot save session to " + file + ": " + describe(e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the move already consumed it, or the directory is gone: nothing left to clean
                }
            }
        }
    }

    private static StateWriter encode(Model model, CompressedKvCache cache, int[] tokens, Map<String, String> extras) {
        if (tokens.length != cache.position()) {
            throw new IllegalArgumentException(tokens.length + " token ids for a cache at position " + cache.position());
        }
        ModelIdentity id = ModelIdentity.of(model);
        StateWriter out = new StateWriter((int) Math.min(Integer.MAX_VALUE - 64, cache.bytes() + 4L * tokens.length + 8192));
        out.bytes(MAGIC, 0, MAGIC.length).i32(FORMAT_VERSION).i32(0);
        new SessionHeader(id, cache.policy().spec(), tokens.length, cache.position(), System.currentTimeMillis(), extras).write(out);
        int h = out.size() - 16;
        out.i32At(12, h);
        out.i64(0);
        int payloadStart = out.size();
        out.intArray(tokens);
        cache.writeState(out);
        out.i64At(16 + h, out.size() - payloadStart);
        out.i32(out.crc32c(MAGIC.length));
        return out;
    }

    /** Parses session bytes ({@code source} names them in messages). */
    public static SessionFile fromBytes(byte[] data, String source) {
        return parse(data, data.length, source);
    }

    public static SessionFile fromBytes(byte[] data) {
        return fromBytes(data, "session data");
    }

    /** Reads one session from a stream: exactly its bytes, so several may follow each other. */
    public static SessionFile read(InputStream in, String source) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] head = readUpTo(in, 16);
        buf.write(head);
        if (head.length < 16) {
            return parse(buf.toByteArray(), head.length, source);
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        checkMagicAndVersion(head, head.length, source);
        int h = b.getInt(12);
        if (h < 0 || h > MAX_HEADER) {
            throw new Think4jException(source + " is damaged: header length " + h);
        }
        byte[] header = readUpTo(in, h + 8);
        buf.write(header);
        if (header.length == h + 8) {
            long p = ByteBuffer.wrap(header, h, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (p < 0 || p > Integer.MAX_VALUE - 64 - h) {
                throw new Think4jException(source + " is damaged: payload length " + p);
            }
            buf.write(readUpTo(in, (int) p + 4));
        }
        byte[] all = buf.toByteArray();
        return parse(all, all.length, source);
    }

    /** Loads a session file; a missing or unreadable file is a one-line error. */
    public static SessionFile load(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new Think4jException("session file " + file + " does not exist");
        } catch (IOException | OutOfMemoryError e) {
            throw new Think4jException("cannot read session file " + file + ": " + describe(e));
        }
        return fromBytes(data, "session file " + file);
    }

    private static byte[] readUpTo(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        return b;
    }

    private static void checkMagicAndVersion(byte[] data, int length, String source) {
        if (length < MAGIC.length || !java.util.Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new Think4jException(source + " is not a think4j session file");
        }
        if (length < 12) {
            throw new Think4jException(source + " is truncated (" + length + " bytes)");
        }
        int version = ByteBuffer.wrap(data, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (version != FORMAT_VERSION) {
            throw new Think4jException(source + " has session format version " + version + "; this think4j reads version "
                    + FORMAT_VERSION);
        }
    }

    private static SessionFile parse(byte[] data, int length, String source) {
        checkMagicAndVersion(data, length, source);
        ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        if (length < 24) {
            throw truncated(source, length);
        }
        int h = b.getInt(12);
        if (h < 0 || h > MAX_HEADER) {
            throw new Think4jException(source + " is damaged: header length " + h);
        }
        if (length < 24L + h) {
            throw truncated(source, length);
        }
        long p = b.getLong(16 + h);
        if (p < 0 || 28L + h + p > length) {
            if (p >= 0 && p < Integer.MAX_VALUE) {
                throw truncated(source, length);
            }
            throw new Think4jException(source + " is damaged: payload length " + p);
        }
        int end = (int) (24L + h + p);
        if (end + 4 != length) {
            throw new Think4jException(source + " is damaged: " + (length - end - 4) + " bytes after the checksum");
        }
        CRC32C crc = new CRC32C();
        crc.update(data, MAGIC.length, end - MAGIC.length);
        if ((int) crc.getValue() != b.getInt(end)) {
            throw new Think4jException(source + " is damaged: checksum mismatch");
        }
        StateReader hr = new StateReader(data, 16, h, source);
        SessionHeader header = SessionHeader.read(hr);
        StateReader pr = new StateReader(data, 24 + h, (int) p, source);
        int[] tokens = pr.intArray("token ids", (int) p / 4);
        if (tokens == null || tokens.length != header.tokenCount()) {
            throw new Think4jException(source + " is damaged: " + (tokens == null ? 0 : tokens.length)
                    + " token ids, the header says " + header.tokenCount());
        }
        int cacheOffset = 24 + h + (int) p - pr.remaining();
        return new SessionFile(source, header, tokens, data, cacheOffset, pr.remaining());
    }

    private static Think4jException truncated(String source, int length) {
        return new Think4jException(source + " is truncated (" + length + " bytes): it was cut off while being written or copied");
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : m == null ? e.getClass().getSimpleName() : m;
    }
}
