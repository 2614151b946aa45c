package dev.think4j.kv;

import dev.think4j.tensor.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 keys laid out for decode attention: tokens in blocks of two vectors' worth (16 with
 * 8-lane vectors, 32 with 16), and inside a block channel c of its tokens is contiguous. Scoring a
 * block is then {@code width} broadcast multiply-adds per vector with no horizontal sums (row-major keys need one horizontal sum per token, which
 * costs more than the dot itself at head dimensions of 32..128). Used for full-width tails and
 * channel-pruned (physically compacted) float segments.
 */
public final class FloatKeyBlocks implements KeyStore {
    private static final VectorSpecies<Float> S = Vectors.FLOAT;
    private static final int L = S.length();
    static final int BLOCK = 2 * L;
    private static final boolean VECTOR = L >= 4;

    private final int width;
    private float[] data;
    private int count;

    public FloatKeyBlocks(int width, int initialCapacity) {
        this.width = width;
        this.data = new float[blocks(Math.max(1, initialCapacity)) * BLOCK * width];
    }

    /** Copies the given rows (already narrowed to {@code width} channels). */
    public static FloatKeyBlocks of(float[][] rows, int width) {
        FloatKeyBlocks k = new FloatKeyBlocks(width, rows.length);
        for (float[] row : rows) {
            k.append(row, 0);
        }
        return k;
    }

    private static int blocks(int tokens) {
        return (tokens + BLOCK - 1) / BLOCK;
    }

    private int index(int t, int c) {
        return (t / BLOCK) * BLOCK * width + c * BLOCK + t % BLOCK;
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
        int needed = blocks(count + 1) * BLOCK * width;
        if (needed > data.length) {
            int grown = blocks(count + count / 2 + BLOCK) * BLOCK * width;
            data = java.util.Arrays.copyOf(data, Math.max(needed, grown));
        }
        int base = index(count, 0);
        for (int c = 0; c < width; c++) {
            data[base + c * BLOCK] = src[off + c];
        }
        count++;
    }

    public void appendRows(float[][] rows) {
        for (float[] row : rows) {
            append(row, 0);
        }
    }

    @Override
    public void row(int t, float[] out, int outOff) {
        int base = index(t, 0);
        for (int c = 0; c < width; c++) {
            out[outOff + c] = data[base + c * BLOCK];
        }
    }

    /**
     * Drops the first n tokens (they moved into a compressed segment): in place, as
     * {@link FloatRows#removeFirst} does and for the same reason, unless the storage is mostly spare.
     * In place is safe front to back: the slot written for token i held the old token i, which was
     * either dropped (i < n) or already moved to token i - n.
     */
    public void removeFirst(int n) {
        int remaining = count - n;
        if (data.length > 4 * blocks(Math.max(remaining, BLOCK)) * BLOCK * width) {
            int[] keep = new int[remaining];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = n + i;
            }
            retain(keep);
            return;
        }
        for (int i = 0; i < remaining; i++) {
            int from = index(i + n, 0);
            int to = index(i, 0);
            for (int c = 0; c < width; c++) {
                data[to + c * BLOCK] = data[from + c * BLOCK];
            }
        }
        count = remaining;
    }

    public void retain(int[] rows) {
        float[] next = new float[blocks(Math.max(rows.length, BLOCK)) * BLOCK * width];
        for (int i = 0; i < rows.length; i++) {
            int from = index(rows[i], 0);
            int to = (i / BLOCK) * BLOCK * width + i % BLOCK;
            for (int c = 0; c < width; c++) {
                next[to + c * BLOCK] = data[from + c * BLOCK];
            }
        }
        data = next;
        count = rows.length;
    }

    @Override
    public void scores(float[] q, int qOff, float[] out, int outOff) {
        int full = count / BLOCK;
        int rest = count % BLOCK;
        if (!VECTOR) {
            for (int b = 0; b <= full; b++) {
                scoreScalar(q, qOff, b, b < full ? BLOCK : rest, out, outOff + b * BLOCK);
            }
            return;
        }
        int b = 0;
        for (; b + 1 < full; b += 2) {
            scorePair(q, qOff, b * BLOCK * width, out, outOff + b * BLOCK);
        }
        if (b < full) {
            scoreBlock(q, qOff, b * BLOCK * width, out, outOff + b * BLOCK);
        }
        if (rest != 0) {
            // storage always holds whole blocks: score the last one whole, keep its valid lanes
            float[] tmp = new float[BLOCK];
            scoreBlock(q, qOff, full * BLOCK * width, tmp, 0);
            System.arraycopy(tmp, 0, out, outOff + full * BLOCK, rest);
        }
    }

    private void scoreBlock(float[] q, int qOff, int base, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        for (int c = 0; c < width; c++) {
            FloatVector qc = FloatVector.broadcast(S, q[qOff + c]);
            a0 = FloatVector.fromArray(S, data, base + c * BLOCK).fma(qc, a0);
            a1 = FloatVector.fromArray(S, data, base + c * BLOCK + L).fma(qc, a1);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
    }

    /** Four queries of a GQA group per pass: each key block is loaded once for all four. */
    @Override
    public void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride) {
        int i = 0;
        if (VECTOR) {
            for (; i + 4 <= nq; i += 4) {
                scores4(q, qOff + i * qStride, qStride, out, outOff + i * outStride, outStride);
            }
        }
        for (; i < nq; i++) {
            scores(q, qOff + i * qStride, out, outOff + i * outStride);
        }
    }

    private void scores4(float[] q, int q0, int qs, float[] out, int o, int os) {
        int full = count / BLOCK;
        for (int b = 0; b < full; b++) {
            block4(q, q0, qs, b * BLOCK * width, out, o + b * BLOCK, os);
        }
        int rest = count % BLOCK;
        if (rest != 0) {
            float[] tmp = new float[4 * BLOCK];
            block4(q, q0, qs, full * BLOCK * width, tmp, 0, BLOCK);
            for (int i = 0; i < 4; i++) {
                System.arraycopy(tmp, i * BLOCK, out, o + i * os + full * BLOCK, rest);
            }
        }
    }

    private void block4(float[] q, int q0, int qs, int base, float[] out, int t, int os) {
        int q1 = q0 + qs;
        int q2 = q1 + qs;
        int q3 = q2 + qs;
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        for (int c = 0; c < width; c++) {
            FloatVector k0 = FloatVector.fromArray(S, data, base + c * BLOCK);
            FloatVector k1 = FloatVector.fromArray(S, data, base + c * BLOCK + L);
            FloatVector b0 = FloatVector.broadcast(S, q[q0 + c]);
            FloatVector b1 = FloatVector.broadcast(S, q[q1 + c]);
            FloatVector b2 = FloatVector.broadcast(S, q[q2 + c]);
            FloatVector b3 = FloatVector.broadcast(S, q[q3 + c]);
            a00 = k0.fma(b0, a00);
            a01 = k1.fma(b0, a01);
            a10 = k0.fma(b1, a10);
            a11 = k1.fma(b1, a11);
            a20 = k0.fma(b2, a20);
            a21 = k1.fma(b2, a21);
            a30 = k0.fma(b3, a30);
            a31 = k1.fma(b3, a31);
        }
        a00.intoArray(out, t);
        a01.intoArray(out, t + L);
        a10.intoArray(out, t + os);
        a11.intoArray(out, t + os + L);
        a20.intoArray(out, t + 2 * os);
        a21.intoArray(out, t + 2 * os + L);
        a30.intoArray(out, t + 3 * os);
        a31.intoArray(out, t + 3 * os + L);
    }

    /** Two blocks at once: four independent accumulator chains hide the multiply-add latency. */
    private void scorePair(float[] q, int qOff, int base, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int second = base + BLOCK * width;
        for (int c = 0; c < width; c++) {
            FloatVector qc = FloatVector.broadcast(S, q[qOff + c]);
            int p = base + c * BLOCK;
            int r = second + c * BLOCK;
            a0 = FloatVector.fromArray(S, data, p).fma(qc, a0);
            a1 = FloatVector.fromArray(S, data, p + L).fma(qc, a1);
            a2 = FloatVector.fromArray(S, data, r).fma(qc, a2);
            a3 = FloatVector.fromArray(S, data, r + L).fma(qc, a3);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        a2.intoArray(out, o + 2 * L);
        a3.intoArray(out, o + 3 * L);
    }

    /**
     * Same sums in the same order as the vector path (channel by channel, per token), so a token's
     * score does not depend on whether its block was scored by vectors or here.
     */
    private void scoreScalar(float[] q, int qOff, int block, int tokens, float[] out, int o) {
        int base = block * BLOCK * width;
        for (int t = 0; t < tokens; t++) {
            float acc = 0f;
            for (int c = 0; c < width; c++) {
                acc = Math.fma(data[base + c * BLOCK + t], q[qOff + c], acc);
            }
            out[o + t] = acc;
        }
    }

    @Override
    public long bytes() {
        return (long) count * width * Float.BYTES;
    }

    /**
     * Session files: width, count, then the keys row by row. Not the block layout, whose block size
     * follows this machine's vector width: a file saved here must load where vectors are wider.
     */
    void write(StateWriter out) {
        out.i32(width).i32(count);
        float[] row = new float[width];
        for (int t = 0; t < count; t++) {
            row(t, row, 0);
            out.floats(row, 0, width);
        }
    }

    static FloatKeyBlocks read(StateReader in, int maxWidth) {
        int width = in.count("key width", 1, maxWidth);
        int count = in.count("key rows", 0, in.remaining() / (4 * width));
        FloatKeyBlocks k = new FloatKeyBlocks(width, Math.max(count, 16));
        float[] row = new float[width];
        for (int t = 0; t < count; t++) {
            in.floats(row, 0, width);
            k.append(row, 0);
        }
        return k;
    }
}
