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
        long tensorCount = readCount("tensor count");
        long kvCount = readCount("metadata count");
        Map<String, Object> md = new LinkedHashMap<>();
        Map<String, GgufValueType> mdTypes = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = readString();
            GgufValueType type = readValueType("metadata '" + key + "'");
            md.put(key, readValue(type, key));
            mdTypes.put(key, type);
        }
        metadata = Collections.unmodifiableMap(md);
        metadataTypes = Collections.unmodifiableMap(mdTypes);
        Object align = md.get("general.alignment");
        alignment = align instanceof Number n ? n.intValue() : DEFAULT_ALIGNMENT;
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw error("general.alignment must be a power of two, got " + alignment);
        }
        Map<String, GgufTensorInfo> ts = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = readString();
            int nDims = readInt();
            if (nDims < 1 || nDims > 4) {
                throw error("tensor '" + name + "' has " + nDims + " dimensions (1 to 4 allowed)");
            }
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = readLong();
                if (shape[d] <= 0) {
                    throw error("tensor '" + name + "' has a non-positive dimension " + shape[d]);
                }
            }
            int typeId = readInt();
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw error("tensor '" + name + "' has unknown tensor type id " + typeId);
            }
            long offset = readLong();
            if (shape[0] % type.blockSize() != 0) {
                throw error("tensor '" + name + "' row length " + shape[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
            if (ts.put(name, new GgufTensorInfo(name, shape, type, offset)) != null) {
                throw error("duplicate tensor name '" + name + "'");
            }
        }
        tensors = Collections.unmodifiableMap(ts);
        dataOffset = alignUp(cursor, alignment);
        for (GgufTensorInfo t : ts.values()) {
            long end = dataOffset + t.offset() + t.byteSize();
            if (t.offset() < 0 || end > file.byteSize()) {
                throw error("truncated: tensor '" + t.name() + "' needs bytes up to " + end
                        + " but the file has " + file.byteSize());
            }
        }
    }

    /** Opens and maps a GGUF file; errors are {@link GgufFormatException} with the path in the message. */
    public static GgufFile open(Path path) {
        if (!Files.exists(path)) {
            throw new GgufFormatException("model file not found: " + path);
        }
        if (Files.isDirectory(path)) {
            throw new GgufFormatException("model path is a directory, not a GGUF file: " + path);
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.size() == 0 ? MemorySegment.NULL.reinterpret(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
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
            throw new GgufFormatException(path + ": metadata '" + key + "' = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public float getFloat(String key) {
        Object v = require(key);
        if (v instanceof Number n) {
            return n.floatValue();
        }
        throw typeError(key, "a number");
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
            case long[] a -> { out = new int[a.length]; for (int i = 0; i < a.length; i++) out[i] = Math.toIntExact(a[i]); }
            default -> throw typeError(key, "an array of integers");
        }
        return out;
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException(path + ": missing required metadata '" + key + "'");
        }
        return v;
    }

    private GgufFormatException typeError(String key, String expected) {
        return new GgufFormatException(path + ": metadata '" + key + "' should be " + expected
                + " but is " + metadataTypes.get(key));
    }

    @Override
    public void close() {
        arena.close();
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

    private long readCount(String what) {
        long n = readLong();
        // Each entry takes at least 8 bytes, so a larger count cannot be real.
        if (n < 0 || n > file.byteSize() / 8 + 1) {
            throw error("corrupt or truncated header: " + what + " " + Long.toUnsignedString(n)
                    + " is impossible in a file of " + file.byteSize() + " bytes");
        }
        return n;
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
            case ARRAY: return readArray(key);
            default: throw error("unhandled value type " + type);
        }
    }

    private Object readArray(String key) {
        GgufValueType elem = readValueType("array '" + key + "'");
        long n = readLong();
        if (n < 0 || n > file.byteSize()) {
            throw error("corrupt array length " + n + " for '" + key + "'");
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
                    a[i] = readArray(key);
                }
                return a;
            }
            default:
                throw error("unhandled array element type " + elem);
        }
    }

    static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
