package dev.think4j.kv;

import dev.think4j.tensor.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major float32 value rows of a fixed width: full-width tails and float segments (keys use
 * {@link FloatKeyBlocks}, whose layout suits q . k). Accumulating p_t * v_t walks the tokens with
 * the output channels held in registers.
 */
public final class FloatRows implements ValueStore {
    private static final VectorSpecies<Float> S = Vectors.FLOAT;
    private static final int L = S.length();
    private static final boolean VECTOR = L >= 4;

    private final int width;
    private float[] data;
    private int count;

    public FloatRows(int width, int initialCapacity) {
        this.width = width;
        this.data = new float[Math.max(1, initialCapacity) * width];
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

    private void ensureCapacity(int rows) {
        if (rows * width > data.length) {
            int newRows = Math.max(rows, data.length / width + (data.length / width >> 1) + 16);
            data = java.util.Arrays.copyOf(data, newRows * width);
        }
    }

    /**
     * Drops the first n rows (they moved into a compressed segment). The rest move down in place:
     * a decode-time flush happens every few tokens, and a new array each time was garbage that
     * lived long enough to be promoted, growing the old generation. An array mostly spare (the
     * tail of a long prompt, just compressed) is replaced by one that fits.
     */
    public void removeFirst(int n) {
        int remaining = count - n;
        int fit = Math.max(remaining, 16) * width;
        if (data.length > 4 * fit) {
            float[] next = new float[fit];
            System.arraycopy(data, n * width, next, 0, remaining * width);
            data = next;
        } else {
            System.arraycopy(data, n * width, data, 0, remaining * width);
        }
        count = remaining;
    }

    public void appendRows(float[][] rows) {
        for (float[] row : rows) {
            append(row, 0);
        }
    }

    /** Keeps only the rows at the given increasing indices. */
    public void retain(int[] rows) {
        float[] next = new float[Math.max(rows.length, 16) * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(data, rows[i] * width, next, i * width, width);
        }
        data = next;
        count = rows.length;
    }

    @Override
    public void accumulate(float[] p, int pOff, float[] out, int outOff) {
        int c = 0;
        if (VECTOR) {
            for (; c + 4 * L <= width; c += 4 * L) {
                accumulateWide(p, pOff, out, outOff + c, c);
            }
            for (; c + L <= width; c += L) {
                FloatVector a = FloatVector.fromArray(S, out, outOff + c);
                for (int t = 0; t < count; t++) {
                    a = FloatVector.fromArray(S, data, t * width + c).fma(FloatVector.broadcast(S, p[pOff + t]), a);
                }
                a.intoArray(out, outOff + c);
            }
        }
        for (; c < width; c++) {
            float a = out[outOff + c];
            for (int t = 0; t < count; t++) {
                a = Math.fma(data[t * width + c], p[pOff + t], a);
            }
            out[outOff + c] = a;
        }
    }

    /** Four weight rows of a GQA group per pass: each value row is loaded once for all four. */
    @Override
    public void accumulate(float[] p, int pOff, int pStride, int np, float[] out, int outOff, int outStride) {
        int i = 0;
        if (VECTOR && width % (4 * L) == 0) {
            for (; i + 4 <= np; i += 4) {
                for (int c = 0; c < width; c += 4 * L) {
                    accumulate4Wide(p, pOff + i * pStride, pStride, out, outOff + i * outStride + c, outStride, c);
                }
            }
        } else if (VECTOR && width % (2 * L) == 0) {
            for (; i + 4 <= np; i += 4) {
                for (int c = 0; c < width; c += 2 * L) {
                    accumulate4(p, pOff + i * pStride, pStride, out, outOff + i * outStride + c, outStride, c);
                }
            }
        }
        for (; i < np; i++) {
            accumulate(p, pOff + i * pStride, out, outOff + i * outStride);
        }
    }

    /**
     * Four weight rows times four vectors of channels (a whole 64-wide head with 16 lanes): one
     * sequential pass over the rows, sixteen accumulators in registers.
     */
    private void accumulate4Wide(float[] p, int p0, int ps, float[] out, int o, int os, int c) {
        FloatVector a00 = FloatVector.fromArray(S, out, o);
        FloatVector a01 = FloatVector.fromArray(S, out, o + L);
        FloatVector a02 = FloatVector.fromArray(S, out, o + 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, out, o + 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, out, o + os);
        FloatVector a11 = FloatVector.fromArray(S, out, o + os + L);
        FloatVector a12 = FloatVector.fromArray(S, out, o + os + 2 * L);
        FloatVector a13 = FloatVector.fromArray(S, out, o + os + 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, out, o + 2 * os);
        FloatVector a21 = FloatVector.fromArray(S, out, o + 2 * os + L);
        FloatVector a22 = FloatVector.fromArray(S, out, o + 2 * os + 2 * L);
        FloatVector a23 = FloatVector.fromArray(S, out, o + 2 * os + 3 * L);
        FloatVector a30 = FloatVector.fromArray(S, out, o + 3 * os);
        FloatVector a31 = FloatVector.fromArray(S, out, o + 3 * os + L);
        FloatVector a32 = FloatVector.fromArray(S, out, o + 3 * os + 2 * L);
        FloatVector a33 = FloatVector.fromArray(S, out, o + 3 * os + 3 * L);
        for (int t = 0; t < count; t++) {
            int r = t * width + c;
            FloatVector v0 = FloatVector.fromArray(S, data, r);
            FloatVector v1 = FloatVector.fromArray(S, data, r + L);
            FloatVector v2 = FloatVector.fromArray(S, data, r + 2 * L);
            FloatVector v3 = FloatVector.fromArray(S, data, r + 3 * L);
            FloatVector b = FloatVector.broadcast(S, p[p0 + t]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            a02 = v2.fma(b, a02);
            a03 = v3.fma(b, a03);
            b = FloatVector.broadcast(S, p[p0 + ps + t]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            a12 = v2.fma(b, a12);
            a13 = v3.fma(b, a13);
            b = FloatVector.broadcast(S, p[p0 + 2 * ps + t]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            a22 = v2.fma(b, a22);
            a23 = v3.fma(b, a23);
            b = FloatVector.broadcast(S, p[p0 + 3 * ps + t]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
            a32 = v2.fma(b, a32);
            a33 = v3.fma(b, a33);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + L);
        a02.intoArray(out, o + 2 * L);
        a03.intoArray(out, o + 3 * L);
        a10.intoArray(out, o + os);
        a11.intoArray(out, o + os + L);
        a12.intoArray(out, o + os + 2 * L);
        a13.intoArray(out, o + os + 3 * L);
        a20.intoArray(out, o + 2 * os);
        a21.intoArray(out, o + 2 * os + L);
        a22.intoArray(out, o + 2 * os + 2 * L);
        a23.intoArray(out, o + 2 * os + 3 * L);
        a30.intoArray(out, o + 3 * os);
        a31.intoArray(out, o + 3 * os + L);
        a32.intoArray(out, o + 3 * os + 2 * L);
        a33.intoArray(out, o + 3 * os + 3 * L);
    }

    private void accumulate4(float[] p, int p0, int ps, float[] out, int o, int os, int c) {
        FloatVector a00 = FloatVector.fromArray(S, out, o);
        FloatVector a01 = FloatVector.fromArray(S, out, o + L);
        FloatVector a10 = FloatVector.fromArray(S, out, o + os);
        FloatVector a11 = FloatVector.fromArray(S, out, o + os + L);
        FloatVector a20 = FloatVector.fromArray(S, out, o + 2 * os);
        FloatVector a21 = FloatVector.fromArray(S, out, o + 2 * os + L);
        FloatVector a30 = FloatVector.fromArray(S, out, o + 3 * os);
        FloatVector a31 = FloatVector.fromArray(S, out, o + 3 * os + L);
        for (int t = 0; t < count; t++) {
            int r = t * width + c;
            FloatVector v0 = FloatVector.fromArray(S, data, r);
            FloatVector v1 = FloatVector.fromArray(S, data, r + L);
            FloatVector b0 = FloatVector.broadcast(S, p[p0 + t]);
            FloatVector b1 = FloatVector.broadcast(S, p[p0 + ps + t]);
            FloatVector b2 = FloatVector.broadcast(S, p[p0 + 2 * ps + t]);
            FloatVector b3 = FloatVector.broadcast(S, p[p0 + 3 * ps + t]);
            a00 = v0.fma(b0, a00);
            a01 = v1.fma(b0, a01);
            a10 = v0.fma(b1, a10);
            a11 = v1.fma(b1, a11);
            a20 = v0.fma(b2, a20);
            a21 = v1.fma(b2, a21);
            a30 = v0.fma(b3, a30);
            a31 = v1.fma(b3, a31);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + L);
        a10.intoArray(out, o + os);
        a11.intoArray(out, o + os + L);
        a20.intoArray(out, o + 2 * os);
        a21.intoArray(out, o + 2 * os + L);
        a30.intoArray(out, o + 3 * os);
        a31.intoArray(out, o + 3 * os + L);
    }

    /** Four vectors of output channels at once: four independent chains of multiply-adds over the tokens. */
    private void accumulateWide(float[] p, int pOff, float[] out, int o, int c) {
        FloatVector a0 = FloatVector.fromArray(S, out, o);
        FloatVector a1 = FloatVector.fromArray(S, out, o + L);
        FloatVector a2 = FloatVector.fromArray(S, out, o + 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, out, o + 3 * L);
        for (int t = 0; t < count; t++) {
            FloatVector pt = FloatVector.broadcast(S, p[pOff + t]);
            int r = t * width + c;
            a0 = FloatVector.fromArray(S, data, r).fma(pt, a0);
            a1 = FloatVector.fromArray(S, data, r + L).fma(pt, a1);
            a2 = FloatVector.fromArray(S, data, r + 2 * L).fma(pt, a2);
            a3 = FloatVector.fromArray(S, data, r + 3 * L).fma(pt, a3);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        a2.intoArray(out, o + 2 * L);
        a3.intoArray(out, o + 3 * L);
    }

    @Override
    public long bytes() {
        return (long) count * width * Float.BYTES;
    }

    @Override
    public void row(int t, float[] out, int outOff) {
        System.arraycopy(data, t * width, out, outOff, width);
    }

    /** Session files: width, count, then the rows as stored (row-major float32). */
    void write(StateWriter out) {
        out.i32(width).i32(count).floats(data, 0, count * width);
    }

    static FloatRows read(StateReader in, int maxWidth) {
        int width = in.count("value width", 1, maxWidth);
        int count = in.count("value rows", 0, in.remaining() / (4 * width));
        FloatRows r = new FloatRows(width, Math.max(count, 16));
        in.floats(r.data, 0, count * width);
        r.count = count;
        return r;
    }
}
