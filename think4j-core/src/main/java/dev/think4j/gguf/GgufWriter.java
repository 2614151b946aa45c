package dev.think4j.gguf;

import dev.think4j.Think4jException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 (or v2) files: typed metadata, tensor infos, aligned tensor data. Tensor bytes are
 * produced on demand, tensor by tensor, so files of many gigabytes are written without holding the
 * weights in memory.
 */
public final class GgufWriter {
    /** Writes one tensor's bytes (already in its GGML type's layout) to the sink. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(ByteSink sink) throws IOException;
    }

    /** Receives tensor bytes in order. */
    @FunctionalInterface
    public interface ByteSink {
        void write(byte[] bytes) throws IOException;
    }

    private record Value(GgufValueType type, GgufValueType elementType, Object value) {
    }

    private record Tensor(String name, long[] shape, GgmlType type, TensorData data) {
        long bytes() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return type.byteSize(n);
        }
    }

    private final int version;
    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    public GgufWriter() {
        this(3);
    }

    public GgufWriter(int version) {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("GGUF version must be 2 or 3");
        }
        this.version = version;
    }

    /** Sets a scalar or string value of the given type (numbers are converted). */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("use putArray for arrays");
        }
        if (key.equals("general.alignment")) {
            alignment = ((Number) value).intValue();
        }
        metadata.put(key, new Value(type, null, value));
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    /** One element of an array of arrays. */
    public record Nested(GgufValueType elementType, Object values) {
    }

    /**
     * An array value: {@code values} is a Java array (String[], int[], float[], long[], byte[], short[],
     * double[], boolean[]); for an array of arrays, elementType ARRAY and a {@link Nested}[].
     */
    public GgufWriter putArray(String key, GgufValueType elementType, Object values) {
        metadata.put(key, new Value(GgufValueType.ARRAY, elementType, values));
        return this;
    }

    public GgufWriter addTensor(String name, long[] shape, GgmlType type, TensorData data) {
        tensors.add(new Tensor(name, shape.clone(), type, data));
        return this;
    }

    public GgufWriter addTensor(String name, long[] shape, GgmlType type, byte[] bytes) {
        Tensor t = new Tensor(name, shape.clone(), type, sink -> sink.write(bytes));
        if (t.bytes() != bytes.length) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + t.bytes() + " bytes, got " + bytes.length);
        }
        tensors.add(t);
        return this;
    }

    public void write(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Out out = new Out(ch);
            out.i32(GgufFile.MAGIC);
            out.i32(version);
            out.i64(tensors.size());
            out.i64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                out.string(e.getKey());
                out.i32(e.getValue().type().id());
                writeValue(out, e.getValue().type(), e.getValue().elementType(), e.getValue().value());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name());
                out.i32(t.shape().length);
                for (long d : t.shape()) {
                    out.i64(d);
                }
                out.i32(t.type().id());
                out.i64(offset);
                offset = align(offset + t.bytes());
            }
            out.pad(align(out.position()) - out.position());
            for (Tensor t : tensors) {
                long start = out.position();
                t.data().writeTo(out::bytes);
                long written = out.position() - start;
                if (written != t.bytes()) {
                    throw new IllegalStateException("tensor '" + t.name() + "' wrote " + written + " bytes, expected " + t.bytes());
                }
                out.pad(align(out.position()) - out.position());
            }
            out.flush();
        } catch (IOException e) {
            throw new Think4jException("cannot write " + path + ": " + e.getMessage());
        }
    }

    private long align(long v) {
        return (v + alignment - 1) / alignment * alignment;
    }

    private void writeValue(Out out, GgufValueType type, GgufValueType elem, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8, BOOL -> out.u8(v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).intValue());
            case UINT16, INT16 -> out.i16(((Number) v).intValue());
            case UINT32, INT32 -> out.i32((int) ((Number) v).longValue());
            case UINT64, INT64 -> out.i64(((Number) v).longValue());
            case FLOAT32 -> out.f32(((Number) v).floatValue());
            case FLOAT64 -> out.f64(((Number) v).doubleValue());
            case STRING -> out.string((String) v);
            case ARRAY -> {
                int n = java.lang.reflect.Array.getLength(v);
                out.i32(elem.id());
                out.i64(n);
                for (int i = 0; i < n; i++) {
                    Object item = java.lang.reflect.Array.get(v, i);
                    if (elem == GgufValueType.ARRAY) {
                        Nested nested = (Nested) item;
                        writeValue(out, GgufValueType.ARRAY, nested.elementType(), nested.values());
                    } else {
                        writeValue(out, elem, null, item);
                    }
                }
            }
        }
    }

    /** Buffered little-endian output with a position count. */
    private static final class Out {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long position;

        Out(FileChannel ch) {
            this.ch = ch;
        }

        long position() {
            return position;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void u8(int v) throws IOException {
            room(1);
            buf.put((byte) v);
            position++;
        }

        void i16(int v) throws IOException {
            room(2);
            buf.putShort((short) v);
            position += 2;
        }

        void i32(int v) throws IOException {
            room(4);
            buf.putInt(v);
            position += 4;
        }

        void i64(long v) throws IOException {
            room(8);
            buf.putLong(v);
            position += 8;
        }

        void f32(float v) throws IOException {
            room(4);
            buf.putFloat(v);
            position += 4;
        }

        void f64(double v) throws IOException {
            room(8);
            buf.putDouble(v);
            position += 8;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            if (b.length > buf.remaining()) {
                flush();
                if (b.length > buf.capacity()) {
                    ByteBuffer wrap = ByteBuffer.wrap(b);
                    while (wrap.hasRemaining()) {
                        ch.write(wrap);
                    }
                    position += b.length;
                    return;
                }
            }
            buf.put(b);
            position += b.length;
        }

        void pad(long n) throws IOException {
            for (long i = 0; i < n; i++) {
                u8(0);
            }
        }
    }
}
