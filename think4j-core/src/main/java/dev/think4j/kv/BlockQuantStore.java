package dev.think4j.kv;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.Quantizer;
import jdk.incubator.vector.FloatVector;

/**
 * llama.cpp-style block-quantized KV values (q8_0 or q4_0): each token's channels in blocks of
 * min(32, width), one F16 scale per block, 8-bit codes or 4-bit codes with offset 8, one row per
 * token (attention sums rows weighted by probabilities, vectorised across channels). Keys use the
 * same quantizer in a layout made for scoring, {@link BlockQuantKeys}. Grows by appending rows and
 * can drop rows (eviction).
 */
final class BlockQuantStore implements ValueStore {
    private final GgmlType type;
    private final int width;
    private final int block;
    private final int blocksPerRow;
    private final int codeBytesPerRow;
    private byte[] codes;
    private short[] scales;
    private int tokens;

    BlockQuantStore(GgmlType type, int width, int capacity) {
        checkType(type);
        this.type = type;
        this.width = width;
        this.block = Math.min(32, width);
        this.blocksPerRow = (width + block - 1) / block;
        this.codeBytesPerRow = codeBytesPerRow(type, width);
        this.codes = new byte[Math.max(1, capacity) * codeBytesPerRow];
        this.scales = new short[Math.max(1, capacity) * blocksPerRow];
    }

    static void checkType(GgmlType type) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0) {
            throw new IllegalArgumentException("block KV quantization supports Q8_0 and Q4_0, not " + type);
        }
    }

    static int codeBytesPerRow(GgmlType type, int width) {
        return type == GgmlType.Q8_0 ? width : (width + 1) / 2;
    }

    /** The F16-rounded scale of channels c0 .. c1 of a row: q8_0 maps max |x| to 127, q4_0 the largest-magnitude x to -8. */
    static float blockScale(GgmlType type, float[] row, int c0, int c1) {
        if (type == GgmlType.Q8_0) {
            float amax = 0f;
            for (int c = c0; c < c1; c++) {
                amax = Math.max(amax, Math.abs(row[c]));
            }
            return Quantizer.halfRound(amax / 127f);
        }
        float max = 0f;
        for (int c = c0; c < c1; c++) {
            if (Math.abs(row[c]) > Math.abs(max)) {
                max = row[c];
            }
        }
        return Quantizer.halfRound(max / -8f);
    }

    /** x's code under scale d: signed for q8_0 (value = q * d), 0..15 for q4_0 (value = (q - 8) * d). */
    static int blockCode(GgmlType type, float x, float d) {
        if (type == GgmlType.Q8_0) {
            return d == 0 ? 0 : Math.max(-127, Math.min(127, Math.round(x / d)));
        }
        return d == 0 ? 8 : Math.max(0, Math.min(15, Math.round(x / d) + 8));
    }

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
            float d = blockScale(type, row, c0, c1);
            for (int c = c0; c < c1; c++) {
                int q = blockCode(type, row[c], d);
                if (type == GgmlType.Q8_0) {
                    codes[cb + c] = (byte) q;
                } else {
                    int idx = cb + c / 2;
                    codes[idx] = (byte) ((c % 2 == 0) ? (codes[idx] & 0xF0) | q : (codes[idx] & 0x0F) | (q << 4));
                }
            }
            scales[tokens * blocksPerRow + b] = Float.floatToFloat16(d);
        }
        tokens++;
    }

    private float scale(int t, int b) {
        return Float.float16ToFloat(scales[t * blocksPerRow + b]);
    }

    private float value(int t, int c) {
        float d = scale(t, c / block);
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

    /** Token t's codes for channels c .. c+LANES-1 (c a multiple of LANES), without the block scale. */
    private FloatVector codes(int t, int c) {
        if (type == GgmlType.Q8_0) {
            return PackedCodes.bytes(codes, t * codeBytesPerRow + c);
        }
        return PackedCodes.unpack(codes, t * width + c, 4).sub(8f);
    }

    @Override
    public void accumulate(float[] p, int pOff, float[] out, int outOff) {
        if (PackedCodes.VECTOR && width % PackedCodes.LANES == 0 && block % PackedCodes.LANES == 0) {
            for (int c = 0; c < width; c += PackedCodes.LANES) {
                int b = c / block;
                FloatVector acc = FloatVector.fromArray(PackedCodes.F, out, outOff + c);
                for (int t = 0; t < tokens; t++) {
                    float w = p[pOff + t] * scale(t, b);
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

    public void retain(int[] rows) {
        byte[] nc = new byte[Math.max(1, rows.length) * codeBytesPerRow];
        short[] ns = new short[Math.max(1, rows.length) * blocksPerRow];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(codes, rows[i] * codeBytesPerRow, nc, i * codeBytesPerRow, codeBytesPerRow);
            System.arraycopy(scales, rows[i] * blocksPerRow, ns, i * blocksPerRow, blocksPerRow);
        }
        codes = nc;
        scales = ns;
        tokens = rows.length;
    }

    /** Session files: type, width, tokens, then the codes and F16 scales as stored. */
    void write(StateWriter out) {
        out.u8(type == GgmlType.Q8_0 ? 8 : 4).i32(width).i32(tokens);
        out.bytes(codes, 0, tokens * codeBytesPerRow).shorts(scales, 0, tokens * blocksPerRow);
    }

    static BlockQuantStore read(StateReader in, int maxWidth) {
        GgmlType type = readType(in);
        int width = in.count("value width", 1, maxWidth);
        int perToken = codeBytesPerRow(type, width) + 2 * ((width + Math.min(32, width) - 1) / Math.min(32, width));
        int tokens = in.count("value rows", 0, in.remaining() / perToken);
        BlockQuantStore s = new BlockQuantStore(type, width, tokens);
        in.bytes(s.codes, 0, tokens * s.codeBytesPerRow);
        in.shorts(s.scales, 0, tokens * s.blocksPerRow);
        s.tokens = tokens;
        return s;
    }

    static GgmlType readType(StateReader in) {
        int bits = in.u8();
        if (bits != 8 && bits != 4) {
            throw in.corrupt("block quantization of " + bits + " bits");
        }
        return bits == 8 ? GgmlType.Q8_0 : GgmlType.Q4_0;
    }
}
