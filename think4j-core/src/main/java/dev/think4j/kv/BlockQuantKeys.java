package dev.think4j.kv;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;

/**
 * q8_0 / q4_0 keys (each token's channels in blocks of min(32, width), one F16 scale per block, as
 * in {@link BlockQuantStore}) laid out for decode attention: tokens in blocks of one vector's
 * worth, and inside a block channel c of its tokens is contiguous, as are each channel block's
 * scales. A query then scores a vector of tokens with one broadcast multiply-add per channel and
 * one per channel block, and no horizontal sum (row-major codes need one per token, which cost
 * several times the dot itself: the reason this layout exists).
 */
final class BlockQuantKeys implements KeyStore {
    /** Tokens per block: a vector's lanes. */
    private static final int T = PackedCodes.VECTOR ? PackedCodes.LANES : 8;

    private final GgmlType type;
    private final int width;
    private final int block;
    private final int blocksPerRow;
    private final int bits;
    /** Codes of token t, channel c at index (t / T) * T * width + c * T + t % T, bit-packed (8 or 4 bits). */
    private byte[] codes;
    /** F16 scale of token t, channel block b at (t / T) * T * blocksPerRow + b * T + t % T. */
    private short[] scales;
    private int tokens;

    BlockQuantKeys(GgmlType type, int width, int capacity) {
        BlockQuantStore.checkType(type);
        this.type = type;
        this.width = width;
        this.block = Math.min(32, width);
        this.blocksPerRow = (width + block - 1) / block;
        this.bits = type == GgmlType.Q8_0 ? 8 : 4;
        int tokenBlocks = tokenBlocks(Math.max(1, capacity));
        this.codes = new byte[codeBytes(tokenBlocks)];
        this.scales = new short[tokenBlocks * T * blocksPerRow];
    }

    private static int tokenBlocks(int n) {
        return (n + T - 1) / T;
    }

    private int codeBytes(int tokenBlocks) {
        return tokenBlocks * T * width * bits / 8;
    }

    private int codeIndex(int t, int c) {
        return (t / T) * T * width + c * T + t % T;
    }

    private int scaleIndex(int t, int b) {
        return (t / T) * T * blocksPerRow + b * T + t % T;
    }

    public void appendRows(float[][] rows) {
        for (float[] row : rows) {
            appendRow(row);
        }
    }

    void appendRow(float[] row) {
        int needed = tokenBlocks(tokens + 1);
        if (codeBytes(needed) > codes.length) {
            int grown = Math.max(needed, tokenBlocks(tokens + tokens / 2 + T));
            codes = java.util.Arrays.copyOf(codes, codeBytes(grown));
            scales = java.util.Arrays.copyOf(scales, grown * T * blocksPerRow);
        }
        for (int b = 0; b < blocksPerRow; b++) {
            int c0 = b * block;
            int c1 = Math.min(width, c0 + block);
            float d = BlockQuantStore.blockScale(type, row, c0, c1);
            scales[scaleIndex(tokens, b)] = Float.floatToFloat16(d);
            for (int c = c0; c < c1; c++) {
                setCode(codeIndex(tokens, c), BlockQuantStore.blockCode(type, row[c], d));
            }
        }
        tokens++;
    }

    private void setCode(int i, int code) {
        if (bits == 8) {
            codes[i] = (byte) code;
        } else {
            int shift = (i & 1) * 4;
            codes[i >>> 1] = (byte) ((codes[i >>> 1] & ~(0xF << shift)) | code << shift);
        }
    }

    private int getCode(int i) {
        return bits == 8 ? codes[i] : (codes[i >>> 1] >>> ((i & 1) * 4)) & 0xF;
    }

    private float value(int t, int c) {
        float d = Float.float16ToFloat(scales[scaleIndex(t, c / block)]);
        return (bits == 8 ? getCode(codeIndex(t, c)) : getCode(codeIndex(t, c)) - 8) * d;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public void scores(float[] q, int qOff, float[] out, int outOff) {
        scores(q, qOff, 0, 1, out, outOff, 0);
    }

    /**
     * Queries of a GQA group four at a time, so each code vector is decoded once for all four; the
     * rest one by one, with the same per-lane operations in the same order.
     */
    @Override
    public void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride) {
        if (!PackedCodes.VECTOR) {
            for (int i = 0; i < nq; i++) {
                for (int t = 0; t < tokens; t++) {
                    float acc = 0f;
                    for (int c = 0; c < width; c++) {
                        acc += q[qOff + i * qStride + c] * value(t, c);
                    }
                    out[outOff + i * outStride + t] = acc;
                }
            }
            return;
        }
        // q4_0 codes carry an offset of 8: sum_c q_c (k_c - 8) = sum_c q_c k_c - 8 sum_c q_c per block
        float[] offsets = new float[nq * blocksPerRow];
        if (bits == 4) {
            for (int i = 0; i < nq; i++) {
                for (int b = 0; b < blocksPerRow; b++) {
                    float s = 0f;
                    for (int c = b * block; c < Math.min(width, b * block + block); c++) {
                        s += q[qOff + i * qStride + c];
                    }
                    offsets[i * blocksPerRow + b] = 8f * s;
                }
            }
        }
        float[] scale = new float[T * blocksPerRow];
        float[] tmp = tokens % T == 0 ? null : new float[4 * T];
        for (int tb = 0; tb * T < tokens; tb++) {
            VectorMath.halvesToFloats(scales, tb * T * blocksPerRow, scale, 0, T * blocksPerRow);
            int rest = Math.min(T, tokens - tb * T);
            int i = 0;
            for (; i + 4 <= nq; i += 4) {
                int o = outOff + i * outStride + tb * T;
                if (rest == T) {
                    block4(tb, scale, q, qOff + i * qStride, qStride, offsets, i, out, o, outStride);
                } else {
                    block4(tb, scale, q, qOff + i * qStride, qStride, offsets, i, tmp, 0, T);
                    for (int j = 0; j < 4; j++) {
                        System.arraycopy(tmp, j * T, out, o + j * outStride, rest);
                    }
                }
            }
            for (; i < nq; i++) {
                int o = outOff + i * outStride + tb * T;
                if (rest == T) {
                    block1(tb, scale, q, qOff + i * qStride, offsets, i, out, o);
                } else {
                    block1(tb, scale, q, qOff + i * qStride, offsets, i, tmp, 0);
                    System.arraycopy(tmp, 0, out, o, rest);
                }
            }
        }
    }

    /** The T codes of token block tb, channel c, as floats (q4_0 still offset by 8). */
    private FloatVector codes(int tb, int c) {
        int first = tb * T * width + c * T;
        return bits == 8 ? PackedCodes.bytes(codes, first) : PackedCodes.unpack(codes, first, 4);
    }

    private void block1(int tb, float[] scale, float[] q, int q0, float[] offsets, int qi, float[] out, int o) {
        FloatVector total = FloatVector.zero(PackedCodes.F);
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector acc = FloatVector.zero(PackedCodes.F);
            for (int c = b * block; c < Math.min(width, b * block + block); c++) {
                acc = codes(tb, c).fma(FloatVector.broadcast(PackedCodes.F, q[q0 + c]), acc);
            }
            acc = acc.sub(offsets[qi * blocksPerRow + b]);
            total = acc.fma(FloatVector.fromArray(PackedCodes.F, scale, b * T), total);
        }
        total.intoArray(out, o);
    }

    private void block4(int tb, float[] scale, float[] q, int q0, int qs, float[] offsets, int qi, float[] out, int o, int os) {
        FloatVector t0 = FloatVector.zero(PackedCodes.F);
        FloatVector t1 = FloatVector.zero(PackedCodes.F);
        FloatVector t2 = FloatVector.zero(PackedCodes.F);
        FloatVector t3 = FloatVector.zero(PackedCodes.F);
        for (int b = 0; b < blocksPerRow; b++) {
            FloatVector a0 = FloatVector.zero(PackedCodes.F);
            FloatVector a1 = FloatVector.zero(PackedCodes.F);
            FloatVector a2 = FloatVector.zero(PackedCodes.F);
            FloatVector a3 = FloatVector.zero(PackedCodes.F);
            for (int c = b * block; c < Math.min(width, b * block + block); c++) {
                FloatVector k = codes(tb, c);
                a0 = k.fma(FloatVector.broadcast(PackedCodes.F, q[q0 + c]), a0);
                a1 = k.fma(FloatVector.broadcast(PackedCodes.F, q[q0 + qs + c]), a1);
                a2 = k.fma(FloatVector.broadcast(PackedCodes.F, q[q0 + 2 * qs + c]), a2);
                a3 = k.fma(FloatVector.broadcast(PackedCodes.F, q[q0 + 3 * qs + c]), a3);
            }
            FloatVector d = FloatVector.fromArray(PackedCodes.F, scale, b * T);
            t0 = a0.sub(offsets[qi * blocksPerRow + b]).fma(d, t0);
            t1 = a1.sub(offsets[(qi + 1) * blocksPerRow + b]).fma(d, t1);
            t2 = a2.sub(offsets[(qi + 2) * blocksPerRow + b]).fma(d, t2);
            t3 = a3.sub(offsets[(qi + 3) * blocksPerRow + b]).fma(d, t3);
        }
        t0.intoArray(out, o);
        t1.intoArray(out, o + os);
        t2.intoArray(out, o + 2 * os);
        t3.intoArray(out, o + 3 * os);
    }

    /** Exact bytes: codes plus one 2-byte F16 scale per block, per token (as llama.cpp counts them). */
    @Override
    public long bytes() {
        return (long) tokens * (BlockQuantStore.codeBytesPerRow(type, width) + 2L * blocksPerRow);
    }

    @Override
    public void row(int t, float[] out, int outOff) {
        for (int c = 0; c < width; c++) {
            out[outOff + c] = value(t, c);
        }
    }

    public void retain(int[] rows) {
        BlockQuantKeys kept = new BlockQuantKeys(type, width, rows.length);
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < width; c++) {
                kept.setCode(kept.codeIndex(i, c), getCode(codeIndex(rows[i], c)));
            }
            for (int b = 0; b < blocksPerRow; b++) {
                kept.scales[kept.scaleIndex(i, b)] = scales[scaleIndex(rows[i], b)];
            }
        }
        codes = kept.codes;
        scales = kept.scales;
        tokens = rows.length;
    }

    /**
     * Session files: type, width, tokens, then each token's codes packed as a {@link BlockQuantStore}
     * row and all tokens' F16 scales. Row by row rather than this layout, whose token blocks follow
     * the machine's vector width.
     */
    void write(StateWriter out) {
        out.u8(bits).i32(width).i32(tokens);
        int rowBytes = BlockQuantStore.codeBytesPerRow(type, width);
        byte[] row = new byte[rowBytes];
        for (int t = 0; t < tokens; t++) {
            java.util.Arrays.fill(row, (byte) 0);
            for (int c = 0; c < width; c++) {
                int q = getCode(codeIndex(t, c));
                if (bits == 8) {
                    row[c] = (byte) q;
                } else {
                    row[c / 2] |= (byte) ((q & 0xF) << ((c % 2) * 4));
                }
            }
            out.bytes(row, 0, rowBytes);
        }
        short[] s = new short[blocksPerRow];
        for (int t = 0; t < tokens; t++) {
            for (int b = 0; b < blocksPerRow; b++) {
                s[b] = scales[scaleIndex(t, b)];
            }
            out.shorts(s, 0, blocksPerRow);
        }
    }

    static BlockQuantKeys read(StateReader in, int maxWidth) {
        GgmlType type = BlockQuantStore.readType(in);
        int width = in.count("key width", 1, maxWidth);
        int rowBytes = BlockQuantStore.codeBytesPerRow(type, width);
        int blocks = (width + Math.min(32, width) - 1) / Math.min(32, width);
        int tokens = in.count("key rows", 0, in.remaining() / (rowBytes + 2 * blocks));
        BlockQuantKeys k = new BlockQuantKeys(type, width, tokens);
        byte[] row = new byte[rowBytes];
        for (int t = 0; t < tokens; t++) {
            in.bytes(row, 0, rowBytes);
            for (int c = 0; c < width; c++) {
                int q = k.bits == 8 ? row[c] : (row[c / 2] >>> ((c % 2) * 4)) & 0xF;
                k.setCode(k.codeIndex(t, c), q);
            }
        }
        short[] s = new short[blocks];
        for (int t = 0; t < tokens; t++) {
            in.shorts(s, 0, blocks);
            for (int b = 0; b < blocks; b++) {
                k.scales[k.scaleIndex(t, b)] = s[b];
            }
        }
        k.tokens = tokens;
        return k;
    }
}
