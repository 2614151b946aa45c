package dev.think4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A GGUF file taken apart for tests that build hostile files: metadata entries keep their raw value
 * bytes (so any type, even a wrong one, can be written back), tensors keep their data, and the
 * parse records where each field sits in the original bytes (for in-place mutations). Written here,
 * independently of the reader under test, so a reader bug cannot hide in a shared helper.
 */
public final class GgufImage {
    public static final int UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
            BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;

    /** One metadata entry; {@code value} is everything after the type id. Positions refer to the parsed file. */
    public record Entry(String key, int type, byte[] value, int keyPos, int typePos, int valuePos) {
        public Entry(String key, int type, byte[] value) {
            this(key, type, value, -1, -1, -1);
        }

        /** Element type of an array entry. */
        public int elementType() {
            return ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        }
    }

    /** One tensor; positions (of the dims, type and offset fields) refer to the parsed file. */
    public record Tensor(String name, long[] shape, int type, long offset, byte[] data,
                         int namePos, int ndimsPos, int[] dimPos, int typePos, int offsetPos, int dataPos) {
        public Tensor(String name, long[] shape, int type, byte[] data) {
            this(name, shape, type, -1, data, -1, -1, new int[0], -1, -1, -1);
        }
    }

    public int version = 3;
    public final List<Entry> entries = new ArrayList<>();
    public final List<Tensor> tensors = new ArrayList<>();
    /** Alignment used when building (tensor offsets and padding); independent of any general.alignment entry. */
    public int alignment = 32;
    /** End of the tensor-info table and start of tensor data in the parsed file. */
    public int headerEnd;
    public int dataStart;

    public static GgufImage read(Path path) {
        try {
            return parse(Files.readAllBytes(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a well-formed file (a seed); throws on anything unexpected. */
    public static GgufImage parse(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        GgufImage img = new GgufImage();
        if (b.getInt() != 0x46554747) {
            throw new IllegalArgumentException("not GGUF");
        }
        img.version = b.getInt();
        long nt = b.getLong();
        long nkv = b.getLong();
        for (long i = 0; i < nkv; i++) {
            int keyPos = b.position();
            String key = string(b);
            int typePos = b.position();
            int type = b.getInt();
            int valuePos = b.position();
            skip(b, type, 0);
            byte[] raw = Arrays.copyOfRange(file, valuePos, b.position());
            img.entries.add(new Entry(key, type, raw, keyPos, typePos, valuePos));
            if (key.equals("general.alignment")) {
                img.alignment = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getInt();
            }
        }
        List<Object[]> infos = new ArrayList<>();
        for (long i = 0; i < nt; i++) {
            int namePos = b.position();
            String name = string(b);
            int ndimsPos = b.position();
            int nd = b.getInt();
            long[] shape = new long[nd];
            int[] dimPos = new int[nd];
            for (int d = 0; d < nd; d++) {
                dimPos[d] = b.position();
                shape[d] = b.getLong();
            }
            int typePos = b.position();
            int type = b.getInt();
            int offsetPos = b.position();
            long offset = b.getLong();
            infos.add(new Object[] {name, shape, type, offset, namePos, ndimsPos, dimPos, typePos, offsetPos});
        }
        img.headerEnd = b.position();
        img.dataStart = (int) align(img.headerEnd, img.alignment);
        for (Object[] t : infos) {
            long[] shape = (long[]) t[1];
            int type = (int) t[2];
            long offset = (long) t[3];
            int start = (int) (img.dataStart + offset);
            int size = (int) byteSize(type, shape);
            img.tensors.add(new Tensor((String) t[0], shape, type, offset, Arrays.copyOfRange(file, start, start + size),
                    (int) t[4], (int) t[5], (int[]) t[6], (int) t[7], (int) t[8], start));
        }
        return img;
    }

    /** A deep copy whose lists can be edited without touching this one. */
    public GgufImage copy() {
        GgufImage c = new GgufImage();
        c.version = version;
        c.entries.addAll(entries);
        c.tensors.addAll(tensors);
        c.alignment = alignment;
        c.headerEnd = headerEnd;
        c.dataStart = dataStart;
        return c;
    }

    public Entry entry(String key) {
        return entries.stream().filter(e -> e.key().equals(key)).findFirst().orElse(null);
    }

    public Tensor tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    /** Replaces (in place) or appends an entry. */
    public GgufImage put(String key, int type, byte[] value) {
        Entry e = new Entry(key, type, value);
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).key().equals(key)) {
                entries.set(i, e);
                return this;
            }
        }
        entries.add(e);
        return this;
    }

    public GgufImage remove(String key) {
        entries.removeIf(e -> e.key().equals(key));
        return this;
    }

    public GgufImage putU32(String key, long v) {
        return put(key, UINT32, u32(v));
    }

    public GgufImage putF32(String key, float v) {
        return put(key, FLOAT32, f32(v));
    }

    public GgufImage putString(String key, String v) {
        return put(key, STRING, str(v));
    }

    /** Replaces a tensor's shape, type and data (offsets are recomputed by {@link #build}). */
    public GgufImage setTensor(String name, long[] shape, int type, byte[] data) {
        for (int i = 0; i < tensors.size(); i++) {
            if (tensors.get(i).name().equals(name)) {
                tensors.set(i, new Tensor(name, shape, type, data));
                return this;
            }
        }
        tensors.add(new Tensor(name, shape, type, data));
        return this;
    }

    /** Writes the image with tensors packed in order at {@code alignment}. */
    public byte[] build() {
        return build(null);
    }

    /** As {@link #build()}, with the tensor offset fields replaced by {@code offsets} when non-null. */
    public byte[] build(long[] offsets) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(i32(0x46554747));
        out.writeBytes(i32(version));
        out.writeBytes(u64(tensors.size()));
        out.writeBytes(u64(entries.size()));
        for (Entry e : entries) {
            out.writeBytes(str(e.key()));
            out.writeBytes(i32(e.type()));
            out.writeBytes(e.value());
        }
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            out.writeBytes(str(t.name()));
            out.writeBytes(i32(t.shape().length));
            for (long d : t.shape()) {
                out.writeBytes(u64(d));
            }
            out.writeBytes(i32(t.type()));
            out.writeBytes(u64(offsets != null ? offsets[i] : offset));
            offset = align(offset + t.data().length, alignment);
        }
        pad(out, alignment);
        for (Tensor t : tensors) {
            out.writeBytes(t.data());
            pad(out, alignment);
        }
        return out.toByteArray();
    }

    public Path write(Path path) {
        try {
            Files.write(path, build());
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void pad(ByteArrayOutputStream out, int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
    }

    public static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    /** Bytes of a tensor of a ggml type id (only the types the bundled and shared models use). */
    public static long byteSize(int type, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return switch (type) {
            case 0 -> 4 * n;              // F32
            case 1, 30 -> 2 * n;          // F16, BF16
            case 2 -> n / 32 * 18;        // Q4_0
            case 3 -> n / 32 * 20;        // Q4_1
            case 6 -> n / 32 * 22;        // Q5_0
            case 7 -> n / 32 * 24;        // Q5_1
            case 8 -> n / 32 * 34;        // Q8_0
            case 12 -> n / 256 * 144;     // Q4_K
            case 13 -> n / 256 * 176;     // Q5_K
            case 14 -> n / 256 * 210;     // Q6_K
            default -> throw new IllegalArgumentException("type " + type);
        };
    }

    /** Block geometry {elements per block, bytes per block} of the types above. */
    public static int[] block(int type) {
        return switch (type) {
            case 0 -> new int[] {1, 4};
            case 1, 30 -> new int[] {1, 2};
            case 2 -> new int[] {32, 18};
            case 3 -> new int[] {32, 20};
            case 6 -> new int[] {32, 22};
            case 7 -> new int[] {32, 24};
            case 8 -> new int[] {32, 34};
            case 12 -> new int[] {256, 144};
            case 13 -> new int[] {256, 176};
            case 14 -> new int[] {256, 210};
            default -> throw new IllegalArgumentException("type " + type);
        };
    }

    private static String string(ByteBuffer b) {
        int len = (int) b.getLong();
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static void skip(ByteBuffer b, int type, int depth) {
        switch (type) {
            case UINT8, INT8, BOOL -> b.get();
            case UINT16, INT16 -> b.getShort();
            case UINT32, INT32, FLOAT32 -> b.getInt();
            case UINT64, INT64, FLOAT64 -> b.getLong();
            case STRING -> string(b);
            case ARRAY -> {
                int elem = b.getInt();
                long n = b.getLong();
                for (long i = 0; i < n; i++) {
                    skip(b, elem, depth + 1);
                }
            }
            default -> throw new IllegalArgumentException("value type " + type);
        }
    }

    // ---- little-endian encoders ----

    public static byte[] i32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    public static byte[] u32(long v) {
        return i32((int) v);
    }

    public static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    public static byte[] f32(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
    }

    public static byte[] f64(double v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array();
    }

    public static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return concat(u64(b.length), b);
    }

    /** The raw value of an array: element type, length, then the already-encoded elements. */
    public static byte[] array(int elementType, long length, byte[]... elements) {
        byte[] out = concat(i32(elementType), u64(length));
        for (byte[] e : elements) {
            out = concat(out, e);
        }
        return out;
    }

    public static byte[] stringArray(String... values) {
        byte[][] enc = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            enc[i] = str(values[i]);
        }
        return array(STRING, values.length, enc);
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Decodes a string array entry's elements. */
    public static String[] strings(Entry e) {
        ByteBuffer b = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt() != STRING) {
            throw new IllegalArgumentException(e.key() + " is not a string array");
        }
        String[] out = new String[(int) b.getLong()];
        for (int i = 0; i < out.length; i++) {
            out[i] = string(b);
        }
        return out;
    }
}
