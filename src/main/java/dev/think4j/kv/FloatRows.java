package dev.think4j.kv;

/**
 * Row-major float32 rows of a fixed width: the dense layout, used for full-width tails and for
 * channel-pruned (physically compacted) segments. Serves as key store and value store.
 */
public final class FloatRows implements KeyStore, ValueStore, AppendableStore, RowRemovable {
    private final int width;
    private float[] data;
    private int count;

    public FloatRows(int width, int initialCapacity) {
        this.width = width;
        this.data = new float[Math.max(1, initialCapacity) * width];
    }

    /** Copies the given rows, keeping only {@code channels} (null = all) in that order. */
    public static FloatRows of(float[][] rows, int[] channels, int fullWidth) {
        int w = channels == null ? fullWidth : channels.length;
        FloatRows r = new FloatRows(w, rows.length);
        for (float[] row : rows) {
            r.appendGathered(row, 0, channels);
        }
        return r;
    }

    @Override
    public int tokens() {
        return count;
    }

    @Override
    public int width() {
        return width;
    }

    public void append(float[] src, int off) {
        ensureCapacity(count + 1);
        System.arraycopy(src, off, data, count * width, width);
        count++;
    }

    void appendGathered(float[] src, int off, int[] channels) {
        if (channels == null) {
            append(src, off);
            return;
        }
        ensureCapacity(count + 1);
        int base = count * width;
        for (int c = 0; c < channels.length; c++) {
            data[base + c] = src[off + channels[c]];
        }
        count++;
    }

    private void ensureCapacity(int rows) {
        if (rows * width > data.length) {
            int newRows = Math.max(rows, data.length / width + (data.length / width >> 1) + 16);
            data = java.util.Arrays.copyOf(data, newRows * width);
        }
    }

    /** Drops the first n rows (they moved into a compressed segment) and releases spare capacity. */
    public void removeFirst(int n) {
        int remaining = count - n;
        float[] next = new float[Math.max(remaining, 16) * width];
        System.arraycopy(data, n * width, next, 0, remaining * width);
        data = next;
        count = remaining;
    }

    @Override
    public void appendRow(float[] row) {
        append(row, 0);
    }

    /** Keeps only the rows at the given increasing indices. */
    @Override
    public void retain(int[] rows) {
        float[] next = new float[Math.max(rows.length, 16) * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(data, rows[i] * width, next, i * width, width);
        }
        data = next;
        count = rows.length;
    }

    public float get(int t, int c) {
        return data[t * width + c];
    }

    /** Direct access for kernels that read rows in place. */
    public float[] array() {
        return data;
    }

    @Override
    public void scores(float[] q, int qOff, float[] out, int outOff) {
        for (int t = 0; t < count; t++) {
            out[outOff + t] = VectorMath.dot(q, qOff, data, t * width, width);
        }
    }

    @Override
    public void accumulate(float[] p, int pOff, float[] out, int outOff) {
        for (int t = 0; t < count; t++) {
            VectorMath.axpy(p[pOff + t], data, t * width, out, outOff, width);
        }
    }

    @Override
    public long bytes() {
        return (long) count * width * Float.BYTES;
    }

    /** Bytes allocated, including spare capacity for appends. */
    public long allocatedBytes() {
        return (long) data.length * Float.BYTES;
    }

    @Override
    public void row(int t, float[] out, int outOff) {
        System.arraycopy(data, t * width, out, outOff, width);
    }
}
