package dev.think4j.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF (v2 or v3) file: metadata, tensor table, and tensor data memory-mapped through FFM.
 * The whole file is mapped once, so tensors of any size (files over 2 GiB too) are slices of it.
 * Every read is bounds-checked so a truncated or corrupt file fails with a {@link GgufFormatException}.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Deepest array-of-arrays accepted; real files nest at most once, and recursion must stay bounded. */
    public static final int MAX_ARRAY_DEPTH = 8;
    /** Largest general.alignment accepted: a power of two that still fits an int with room to spare. */
    public static final long MAX_ALIGNMENT = 1L << 30;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> metadataTypes;
    private final Map<String, GgufTensorInfo> tensors;
    private final long dataOffset;
    private final int alignment;
    private long cursor;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        if (file.byteSize() < 24) {
            throw error("file is too short to be GGUF (" + file.byteSize() + " bytes)");
        }
        int magic = file.get(INT, 0);
        if (magic != MAGIC) {
            throw error(String.format("not a GGUF file (magic 0x%08x, expected 0x%08x \"GGUF\")", magic, MAGIC));
        }
        cursor = 4;
        version = readInt();
        if (version < 2 || version > 3) {
            throw error("unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        // Smallest possible entries: a tensor info is a name length, one dimension, a type and an
        // offset (32 bytes); a metadata entry is a key length, a type and a one-byte value (13 bytes).
        long tensorCount = readCount("tensor count", 32);
        long kvCount = readCount("metadata count", 13);
        Map<String, Object> md = new LinkedHashMap<>();
        Map<String, GgufValueType> mdTypes = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = readString();
            GgufValueType type = readValueType("metadata '" + printable(key) + "'");
            Object value = readValue(type, key);
            if (md.put(key, value) != null) {
                throw error("duplicate metadata key '" + printable(key) + "'");
            }
            mdTypes.put(key, type);
        }
        metadata = Collections.unmodifiableMap(md);
        metadataTypes = Collections.unmodifiableMap(mdTypes);
        alignment = readAlignment(md.get("general.alignment"), mdTypes.get("general.alignment"));
        Map<String, GgufTensorInfo> ts = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = readString();
            int nDims = readInt();
            if (nDims < 1 || nDims > 4) {
                throw error("tensor '" + printable(name) + "' has " + nDims + " dimensions (1 to 4 allowed)");
            }
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = readLong();
                if (shape[d] <= 0) {
                    throw error("tensor '" + printable(name) + "' has a non-positive dimension " + shape[d]);
                }
            }
            int typeId = readInt();
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw error("tensor '" + printable(name) + "' has unknown tensor type id " + typeId);
            }
            long offset = readLong();
            if (shape[0] % type.blockSize() != 0) {
                throw error("tensor '" + printable(name) + "' row length " + shape[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
            GgufTensorInfo info = new GgufTensorInfo(name, shape, type, offset);
            checkSize(info);
            if (ts.put(name, info) != null) {
                throw error("duplicate tensor name '" + printable(name) + "'");
            }
        }
        tensors = Collections.unmodifiableMap(ts);
        dataOffset = alignUp(cursor, alignment);
        long dataBytes = Math.max(0, file.byteSize() - dataOffset);
        for (GgufTensorInfo t : ts.values()) {
            // Written as subtractions: offsets and sizes come from the file and may be near Long.MAX_VALUE.
            if (t.offset() < 0 || t.offset() % alignment != 0) {
                throw error("tensor '" + printable(t.name()) + "' has offset " + Long.toUnsignedString(t.offset())
                        + ", which is not a non-negative multiple of the alignment " + alignment);
            }
            if (t.offset() > dataBytes || t.byteSize() > dataBytes - t.offset()) {
                String end = t.offset() > Long.MAX_VALUE - dataOffset - t.byteSize() ? "beyond 2^63"
                        : String.valueOf(dataOffset + t.offset() + t.byteSize());
                throw error("truncated: tensor '" + printable(t.name()) + "' needs bytes up to " + end
                        + " but the file has " + file.byteSize());
            }
        }
    }

    /** Opens and maps a GGUF file; errors are {@link GgufFormatException} with the path in the message. */
    public static GgufFile open(Path path) {
        return open(path, false);
    }

    /**
     * As {@link #open(Path)}; with {@code residentCopy} the file is read into huge-page-backed
     * anonymous memory instead of being mapped (see {@link ResidentCopy}: weights streamed on every
     * token read about twice as fast from it), falling back to the mapping where that is not possible.
     */
    public static GgufFile open(Path path, boolean residentCopy) {
        if (!Files.exists(path)) {
            throw new GgufFormatException("model file not found: " + path);
        }
        if (Files.isDirectory(path)) {
            throw new GgufFormatException("model path is a directory, not a GGUF file: " + path);
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.size() == 0 ? MemorySegment.NULL.reinterpret(0)
                    : residentCopy ? ResidentCopy.load(ch, ch.size(), arena).orElse(null) : null;
            if (seg == null) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            return new GgufFile(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufFormatException("model file not found: " + path);
        } catch (IOException e) {
            arena.close();
            throw new GgufFormatException("cannot read " + path + ": " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public GgufValueType metadataType(String key) {
        return metadataTypes.get(key);
    }

    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    public List<GgufTensorInfo> tensorList() {
        return List.copyOf(tensors.values());
    }

    public GgufTensorInfo tensor(String name) {
        return tensors.get(name);
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    /** The bytes of a tensor, a slice of the mapped file (no copy). */
    public MemorySegment tensorData(GgufTensorInfo info) {
        return file.asSlice(dataOffset + info.offset(), info.byteSize());
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof String s) {
            return s;
        }
        throw typeError(key, "a string");
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Number n && !(v instanceof Float) && !(v instanceof Double)) {
            return n.longValue();
        }
        throw typeError(key, "an integer");
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new GgufFormatException(path + ": metadata '" + printable(key) + "' = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    /** A FLOAT32 or FLOAT64 value (llama.cpp, too, refuses integers where floats belong). */
    public float getFloat(String key) {
        Object v = require(key);
        if (v instanceof Float || v instanceof Double) {
            return ((Number) v).floatValue();
        }
        throw typeError(key, "a float");
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        Object v = metadata.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw typeError(key, "a boolean");
    }

    public String[] getStringArray(String key) {
        Object v = require(key);
        if (v instanceof String[] a) {
            return a;
        }
        throw typeError(key, "an array of strings");
    }

    public float[] getFloatArray(String key) {
        Object v = require(key);
        if (v instanceof float[] a) {
            return a;
        }
        throw typeError(key, "an array of float32");
    }

    /** Integer arrays of any width, widened to int (token types, per-layer head counts). */
    public int[] getIntArray(String key) {
        Object v = require(key);
        int[] out;
        switch (v) {
            case int[] a -> out = a.clone();
            case byte[] a -> { out = new int[a.length]; for (int i = 0; i < a.length; i++) out[i] = a[i]; }
            case short[] a -> { out = new int[a.length]; for (int i = 0; i < a.length; i++) out[i] = a[i]; }
            case long[] a -> {
                out = new int[a.length];
                for (int i = 0; i < a.length; i++) {
                    if (a[i] != (int) a[i]) {
                        throw new GgufFormatException(path + ": metadata '" + printable(key) + "' element " + i + " = " + a[i]
                                + " is out of range");
                    }
                    out[i] = (int) a[i];
                }
            }
            default -> throw typeError(key, "an array of integers");
        }
        return out;
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException(path + ": missing required metadata '" + printable(key) + "'");
        }
        return v;
    }

    private GgufFormatException typeError(String key, String expected) {
        return new GgufFormatException(path + ": metadata '" + printable(key) + "' should be " + expected
                + " but is " + metadataTypes.get(key));
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Text from a file made fit for a one-line message: control characters, line breaks, replacement
     * characters of invalid UTF-8 and the like are escaped, and anything past 64 characters is cut.
     */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < s.length(); ) {
            if (shown == 64) {
                return b.append("...").toString();
            }
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || cp == 0xFFFD || type == Character.UNASSIGNED || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR || type == Character.FORMAT
                    || type == Character.PRIVATE_USE) {
                b.append(cp <= 0xFF ? String.format("\\x%02x", cp) : String.format("\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
            shown++;
        }
        return b.toString();
    }

    // ---- parsing ----

    private GgufFormatException error(String message) {
        return new GgufFormatException(path + ": " + message);
    }

    private void need(long bytes) {
        if (bytes < 0 || cursor + bytes > file.byteSize()) {
            throw error("truncated or corrupt header (needs " + bytes + " bytes at offset " + cursor
                    + ", file has " + file.byteSize() + ")");
        }
    }

    private int readInt() {
        need(4);
        int v = file.get(INT, cursor);
        cursor += 4;
        return v;
    }

    private long readLong() {
        need(8);
        long v = file.get(LONG, cursor);
        cursor += 8;
        return v;
    }

    private long readCount(String what, int minEntryBytes) {
        long n = readLong();
        // A count whose smallest entries would not fit in the rest of the file cannot be real.
        if (n < 0 || n > (file.byteSize() - cursor) / minEntryBytes) {
            throw error("corrupt or truncated header: " + what + " " + Long.toUnsignedString(n)
                    + " is impossible in a file of " + file.byteSize() + " bytes");
        }
        return n;
    }

    /** general.alignment: absent means 32; otherwise an integer, a power of two, at most 2^30. */
    private int readAlignment(Object value, GgufValueType type) {
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!isInteger(type)) {
            throw error("general.alignment must be an unsigned integer, but is " + type + " (" + printable(String.valueOf(value)) + ")");
        }
        long a = ((Number) value).longValue();
        if (a <= 0 || a > MAX_ALIGNMENT || Long.bitCount(a) != 1) {
            String shown = type == GgufValueType.UINT64 ? Long.toUnsignedString(a) : String.valueOf(a);
            throw error("general.alignment must be a power of two from 1 to 2^30, got " + shown);
        }
        return (int) a;
    }

    private static boolean isInteger(GgufValueType type) {
        return switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** Rejects element counts and byte sizes that overflow a long or exceed the file. */
    private void checkSize(GgufTensorInfo t) {
        long elements = 1;
        long bytes;
        try {
            for (long d : t.shape()) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements / t.type().blockSize(), (long) t.type().bytesPerBlock());
        } catch (ArithmeticException e) {
            throw error("tensor '" + printable(t.name()) + "' shape " + java.util.Arrays.toString(t.shape())
                    + " is too large (its size overflows 64 bits)");
        }
        if (bytes > file.byteSize()) {
            throw error("truncated: tensor '" + printable(t.name()) + "' " + t.type() + " " + java.util.Arrays.toString(t.shape())
                    + " needs " + bytes + " bytes but the file has " + file.byteSize());
        }
    }

    private String readString() {
        long len = readLong();
        if (len < 0 || len > Integer.MAX_VALUE) {
            throw error("corrupt string length " + len + " at offset " + (cursor - 8));
        }
        need(len);
        byte[] bytes = file.asSlice(cursor, len).toArray(ValueLayout.JAVA_BYTE);
        cursor += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private GgufValueType readValueType(String where) {
        int id = readInt();
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw error("unknown value type id " + id + " for " + where);
        }
        return t;
    }

    private Object readValue(GgufValueType type, String key) {
        switch (type) {
            case UINT8: need(1); return Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, cursor++));
            case INT8: need(1); return (int) file.get(ValueLayout.JAVA_BYTE, cursor++);
            case UINT16: { need(2); int v = Short.toUnsignedInt(file.get(SHORT, cursor)); cursor += 2; return v; }
            case INT16: { need(2); int v = file.get(SHORT, cursor); cursor += 2; return v; }
            case UINT32: return Integer.toUnsignedLong(readInt());
            case INT32: return readInt();
            case FLOAT32: { need(4); float v = file.get(FLOAT, cursor); cursor += 4; return v; }
            case BOOL: { need(1); byte b = file.get(ValueLayout.JAVA_BYTE, cursor++); return b != 0; }
            case STRING: return readString();
            case UINT64, INT64: return readLong();
            case FLOAT64: { need(8); double v = file.get(DOUBLE, cursor); cursor += 8; return v; }
            case ARRAY: return readArray(key, 1);
            default: throw error("unhandled value type " + type);
        }
    }

    private Object readArray(String key, int depth) {
        if (depth > MAX_ARRAY_DEPTH) {
            throw error("metadata '" + printable(key) + "' nests arrays more than " + MAX_ARRAY_DEPTH + " deep");
        }
        GgufValueType elem = readValueType("array '" + printable(key) + "'");
        long n = readLong();
        long remaining = file.byteSize() - cursor;
        if (n < 0 || n > remaining / minBytes(elem) || n > Integer.MAX_VALUE - 8) {
            throw error("corrupt array length " + Long.toUnsignedString(n) + " for '" + printable(key) + "' ("
                    + elem + " elements; " + remaining + " bytes remain in the file)");
        }
        int len = (int) n;
        switch (elem) {
            case UINT8, INT8: {
                need(n);
                byte[] a = file.asSlice(cursor, n).toArray(ValueLayout.JAVA_BYTE);
                cursor += n;
                return a;
            }
            case UINT16, INT16: {
                need(2 * n);
                short[] a = new short[len];
                MemorySegment.copy(file, SHORT, cursor, a, 0, len);
                cursor += 2 * n;
                return a;
            }
            case UINT32, INT32: {
                need(4 * n);
                int[] a = new int[len];
                MemorySegment.copy(file, INT, cursor, a, 0, len);
                cursor += 4 * n;
                return a;
            }
            case FLOAT32: {
                need(4 * n);
                float[] a = new float[len];
                MemorySegment.copy(file, FLOAT, cursor, a, 0, len);
                cursor += 4 * n;
                return a;
            }
            case UINT64, INT64: {
                need(8 * n);
                long[] a = new long[len];
                MemorySegment.copy(file, LONG, cursor, a, 0, len);
                cursor += 8 * n;
                return a;
            }
            case FLOAT64: {
                need(8 * n);
                double[] a = new double[len];
                MemorySegment.copy(file, DOUBLE, cursor, a, 0, len);
                cursor += 8 * n;
                return a;
            }
            case BOOL: {
                need(n);
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = file.get(ValueLayout.JAVA_BYTE, cursor + i) != 0;
                }
                cursor += n;
                return a;
            }
            case STRING: {
                String[] a = new String[len];
                for (int i = 0; i < len; i++) {
                    a[i] = readString();
                }
                return a;
            }
            case ARRAY: {
                Object[] a = new Object[len];
                for (int i = 0; i < len; i++) {
                    a[i] = readArray(key, depth + 1);
                }
                return a;
            }
            default:
                throw error("unhandled array element type " + elem);
        }
    }

    /** Fewest bytes one array element of this type occupies (a string or array is at least its header). */
    private static int minBytes(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64, STRING -> 8;
            case ARRAY -> 12;
        };
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
