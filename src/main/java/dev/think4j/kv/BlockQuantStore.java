package dev.think4j.kv;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.Quantizer;
import jdk.incubator.vector.FloatVector;

/**
 * llama.cpp-style block-quantized KV rows (q8_0 or q4_0): each token's channels in blocks of
 * min(32, width), one F16 scale per block, 8-bit codes or 4-bit codes with offset 8. Serves as key
 * and value store, grows by appending rows, and can drop rows (eviction).
 */
final class BlockQuantStore implements KeyStore, ValueStore, AppendableStore, RowRemovable {
    private final GgmlType type;
    private final int width;
    private final int block;
    private final int blocksPerRow;
    private final int codeBytesPerRow;
    private byte[] codes;
    private float[] scales;
    private int tokens;

    BlockQuantStore(GgmlType type, int width, int capacity) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0) {
            throw new IllegalArgumentException("block KV quantization supports Q8_0 and Q4_0, not " + type);
        }
        this.type = type;
        this.width = width;
        this.block = Math.min(32, width);
        this.blocksPerRow = (width + block - 1) / block;
        this.codeBytesPerRow = type == GgmlType.Q8_0 ? width : (width + 1) / 2;
        this.codes = new byte[Math.max(1, capacity) * codeBytesPerRow];
        this.scales = new float[Math.max(1, capacity) * blocksPerRow];
    }

    @Override
    public void appendRows(float[][] rows) {
        for (float[] row : rows) {
            appendRow(row);
        }
    }

    void appendRow(float[] row) {
        if ((tokens + 1) * codeBytesPerRow > codes.length) {
            int cap = Math.max(tokens + 1, tokens * 3 / 2 + 16);
            codes = java.util.Arrays.copyOf(codes, cap * codeBytesPerRow);
            scales = java.util.Arrays.copyOf(scales, cap * blocksPerRow);
        }
        int cb = tokens * codeBytesPerRow;
        for (int b = 0; b < blocksPerRow; b++) {
            int c0 = b * block;
            int c1 = Math.min(width, c0 + block);
            float d;
            if (type == GgmlType.Q8_0) {
                float amax = 0f;
                for (int c = c0; c < c1; c++) {
                    amax = Math.max(amax, Math.abs(row[c]));
                }
                d = Quantizer.halfRound(amax / 127f);
                for (int c = c0; c < c1; c++) {
                    codes[cb + c] = (byte) (d == 0 ? 0 : Math.max(-127, Math.min(127, Math.round(row[c] / d))));
                }
            } else {
                float max = 0f;
                for (int c = c0; c < c1; c++) {
                    if (Math.abs(row[c]) > Math.abs(max)) {
                        max = row[c];
                    }
                }
                d = Quantizer.halfRound(max / -8f);
                for (int c = c0; c < c1; c++) {
                    int q = d == 0 ? 8 : Math.max(0, Math.min(15, Math.round(row[c] / d) + 8));
                    int idx = cb + c / 2;
                    codes[idx] = (byte) ((c % 2 == 0) ? (codes[idx] & 0xF0) | q : (codes[idx] & 0x0F) | (q << 4));
                }
            }
            scales[tokens * blocksPerRow + b] = d;
        }
        tokens++;
    }

    private float value(int t, int c) {
        float d = scales[t * blocksPerRow + c / block];
        if (type == GgmlType.Q8_0) {
            return codes[t * codeBytesPerRow + c] * d;
        }
        int packed = codes[t * codeBytesPerRow + c / 2];
        int q = (c % 2 == 0) ? packed & 0x0F : (packed >>> 4) & 0x0F;
        return (q - 8) * d;
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
        if (PackedCodes.VECTOR && width % PackedCodes.LANES == 0) {
            for (int t = 0; t < tokens; t++) {
                FloatVector acc = FloatVector.zero(PackedCodes.F);
                for (int b = 0; b < blocksPerRow; b++) {
                    FloatVector blk = FloatVector.zero(PackedCodes.F);
                    for (int c = b * block; c < Math.min(width, b * block + block); c += PackedCodes.LANES) {
                        blk = codes(t, c).fma(FloatVector.fromArray(PackedCodes.F, q, qOff + c), blk);
                    }
                    acc = blk.fma(FloatVector.broadcast(PackedCodes.F, scales[t * blocksPerRow + b]), acc);
                }
                out[outOff + t] = VectorMath.sumLanes(acc);
            }
            return;
        }
        for (int t = 0; t < tokens; t++) {
            float acc = 0f;
            for (int c = 0; c < width; c++) {
                acc += q[qOff + c] * value(t, c);
            }
            out[outOff + t] = acc;
        }
    }

    /** Token t's codes for channels c .. c+7 (c a multiple of 8), without the block scale. */
    private FloatVector codes(int t, int c) {
        if (type == GgmlType.Q8_0) {
            return PackedCodes.bytes(codes, t * codeBytesPerRow + c);
        }
        return PackedCodes.unpack(codes, t * width + c, 4).sub(8f);
    }

    @Override
    public void accumulate(float[] p, int pOff, float[] out, int outOff) {
        if (PackedCodes.VECTOR && width % PackedCodes.LANES == 0) {
            for (int c = 0; c < width; c += PackedCodes.LANES) {
                int b = c / block;
                FloatVector acc = FloatVector.fromArray(PackedCodes.F, out, outOff + c);
                for (int t = 0; t < tokens; t++) {
                    float w = p[pOff + t] * scales[t * blocksPerRow + b];
                    acc = codes(t, c).fma(FloatVector.broadcast(PackedCodes.F, w), acc);
                }
                acc.intoArray(out, outOff + c);
            }
            return;
        }
        for (int t = 0; t < tokens; t++) {
            float pt = p[pOff + t];
            for (int c = 0; c < width; c++) {
                out[outOff + c] += pt * value(t, c);
            }
        }
    }

    /** Exact bytes: codes plus one 2-byte F16 scale per block. */
    @Override
    public long bytes() {
        return (long) tokens * (codeBytesPerRow + 2L * blocksPerRow);
    }

    @Override
    public void row(int t, float[] out, int outOff) {
        for (int c = 0; c < width; c++) {
            out[outOff + c] = value(t, c);
        }
    }

    @Override
    public void retain(int[] rows) {
        byte[] nc = new byte[Math.max(1, rows.length) * codeBytesPerRow];
        float[] ns = new float[Math.max(1, rows.length) * blocksPerRow];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(codes, rows[i] * codeBytesPerRow, nc, i * codeBytesPerRow, codeBytesPerRow);
            System.arraycopy(scales, rows[i] * blocksPerRow, ns, i * blocksPerRow, blocksPerRow);
        }
        codes = nc;
        scales = ns;
        tokens = rows.length;
    }
}
