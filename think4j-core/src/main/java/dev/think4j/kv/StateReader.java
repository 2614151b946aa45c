package dev.think4j.kv;

import dev.think4j.Think4jException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads what a {@link StateWriter} wrote. Every count is checked against the bytes left before
 * anything is allocated, so a damaged file fails with a message instead of an OutOfMemoryError.
 */
public final class StateReader {
    private final ByteBuffer in;
    private final String source;

    /** {@code source} names the data in messages (a file name, "session bytes"). */
    public StateReader(byte[] data, int off, int len, String source) {
        this.in = ByteBuffer.wrap(data, off, len).slice().order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    public int remaining() {
        return in.remaining();
    }

    /** A one-line error about malformed content. */
    public Think4jException corrupt(String what) {
        return new Think4jException(source + " is damaged: " + what);
    }

    private void need(long bytes) {
        if (bytes < 0 || bytes > in.remaining()) {
            throw corrupt("it ends early (wanted " + bytes + " more bytes, " + in.remaining() + " left)");
        }
    }

    public int u8() {
        need(1);
        return in.get() & 0xFF;
    }

    public int i32() {
        need(4);
        return in.getInt();
    }

    public long i64() {
        need(8);
        return in.getLong();
    }

    public double f64() {
        return Double.longBitsToDouble(i64());
    }

    /** A count in [min, max], else a corruption error naming it. */
    public int count(String what, int min, int max) {
        int n = i32();
        if (n < min || n > max) {
            throw corrupt(what + " " + n + " is out of range [" + min + ", " + max + "]");
        }
        return n;
    }

    public String string() {
        int n = count("string length", 0, in.remaining());
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    public void bytes(byte[] dst, int off, int len) {
        need(len);
        in.get(dst, off, len);
    }

    public void bytes(MemorySegment dst, long offset, long len) {
        need(len);
        MemorySegment.copy(in.array(), in.arrayOffset() + in.position(), dst, ValueLayout.JAVA_BYTE, offset, (int) len);
        in.position(in.position() + (int) len);
    }

    public void ints(int[] dst, int off, int len) {
        need(4L * len);
        in.asIntBuffer().get(dst, off, len);
        in.position(in.position() + 4 * len);
    }

    public void shorts(short[] dst, int off, int len) {
        need(2L * len);
        in.asShortBuffer().get(dst, off, len);
        in.position(in.position() + 2 * len);
    }

    public void floats(float[] dst, int off, int len) {
        need(4L * len);
        in.asFloatBuffer().get(dst, off, len);
        in.position(in.position() + 4 * len);
    }

    public void doubles(double[] dst, int off, int len) {
        need(8L * len);
        in.asDoubleBuffer().get(dst, off, len);
        in.position(in.position() + 8 * len);
    }

    /** An int array written by {@link StateWriter#intArray}, null for -1. */
    public int[] intArray(String what, int maxLength) {
        int n = i32();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > maxLength) {
            throw corrupt(what + " length " + n + " is out of range [0, " + maxLength + "]");
        }
        int[] a = new int[n];
        ints(a, 0, n);
        return a;
    }

    /** Fails unless everything was read. */
    public void end() {
        if (in.hasRemaining()) {
            throw corrupt(in.remaining() + " unexpected bytes after the cache state");
        }
    }
}
