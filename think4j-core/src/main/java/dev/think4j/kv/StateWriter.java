package dev.think4j.kv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer that cache state is written into (session files). Bulk
 * arrays go in with one copy each: a saved cache is mostly codes and floats, and per-element
 * stream writes cost more than the copy.
 */
public final class StateWriter {
    private byte[] buf;
    private ByteBuffer view;
    private int pos;

    public StateWriter(int initialCapacity) {
        buf = new byte[Math.max(64, initialCapacity)];
        view = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void ensure(long more) {
        long need = pos + more;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("cache state larger than 2 GiB cannot be saved in one piece");
        }
        if (need > buf.length) {
            buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, buf.length * 2L)));
            view = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Overwrites 4 bytes at {@code at} (a length reserved earlier). */
    public void i32At(int at, int v) {
        view.putInt(at, v);
    }

    public void i64At(int at, long v) {
        view.putLong(at, v);
    }

    /** CRC32C of the bytes written in [from, size()). */
    public int crc32c(int from) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(buf, from, pos - from);
        return (int) crc.getValue();
    }

    /** Forgets what was written, keeping the buffer. */
    public void reset() {
        pos = 0;
    }

    public int size() {
        return pos;
    }

    /** The bytes written so far (a copy). */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    /** The internal array, valid up to {@link #size()} (no copy, for writing out). */
    byte[] array() {
        return buf;
    }

    public void writeTo(java.io.OutputStream out) throws java.io.IOException {
        out.write(buf, 0, pos);
    }

    public StateWriter u8(int v) {
        ensure(1);
        buf[pos++] = (byte) v;
        return this;
    }

    public StateWriter i32(int v) {
        ensure(4);
        view.putInt(pos, v);
        pos += 4;
        return this;
    }

    public StateWriter i64(long v) {
        ensure(8);
        view.putLong(pos, v);
        pos += 8;
        return this;
    }

    public StateWriter f64(double v) {
        return i64(Double.doubleToRawLongBits(v));
    }

    public StateWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        i32(b.length);
        return bytes(b, 0, b.length);
    }

    public StateWriter bytes(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, pos, len);
        pos += len;
        return this;
    }

    /** {@code len} bytes of native memory from {@code offset}. */
    public StateWriter bytes(MemorySegment src, long offset, long len) {
        ensure(len);
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset, buf, pos, (int) len);
        pos += (int) len;
        return this;
    }

    public StateWriter ints(int[] a, int off, int len) {
        ensure(4L * len);
        view.position(pos);
        view.asIntBuffer().put(a, off, len);
        pos += 4 * len;
        return this;
    }

    public StateWriter shorts(short[] a, int off, int len) {
        ensure(2L * len);
        view.position(pos);
        view.asShortBuffer().put(a, off, len);
        pos += 2 * len;
        return this;
    }

    public StateWriter floats(float[] a, int off, int len) {
        ensure(4L * len);
        view.position(pos);
        view.asFloatBuffer().put(a, off, len);
        pos += 4 * len;
        return this;
    }

    public StateWriter doubles(double[] a, int off, int len) {
        ensure(8L * len);
        view.position(pos);
        view.asDoubleBuffer().put(a, off, len);
        pos += 8 * len;
        return this;
    }

    /** An int array with its length, or -1 for null. */
    public StateWriter intArray(int[] a) {
        if (a == null) {
            return i32(-1);
        }
        i32(a.length);
        return ints(a, 0, a.length);
    }
}
