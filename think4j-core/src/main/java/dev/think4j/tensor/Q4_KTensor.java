package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.B;
import static dev.think4j.tensor.Kernels.BYTE;
import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.I;
import static dev.think4j.tensor.Kernels.INT;
import static dev.think4j.tensor.Kernels.L;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Q4_K: super-blocks of 256 as {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}. Eight sub-blocks of 32
 * have 6-bit scale sc and min m; value = d*sc*q - dmin*m. Each 64-element chunk c uses qs[32c..32c+32):
 * low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
 */
public final class Q4_KTensor extends QuantizedTensor {
    private static final int BYTES = 144;

    /*
     * Vector decoding of the 12 packed scale bytes (16 lanes: scales of sub-blocks 0-7, then mins
     * 0-7): lane k takes byte LOW[k] for its low bits and byte HIGH[k] for its top two bits.
     */
    private static final int[] LOW = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11};
    private static final int[] HIGH = {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7};
    private static final int[] LOW_MASK = {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 255, 255, 255, 255};
    private static final int[] LOW_SHIFT = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4};
    private static final int[] HIGH_MASK = {0, 0, 0, 0, 0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0, 0xC0, 0xC0, 0xC0, 0xC0};
    static final boolean WIDE = L == 16;
    private static final VectorShuffle<Byte> LOW_SHUFFLE = WIDE ? VectorShuffle.fromArray(B, LOW, 0) : null;
    private static final VectorShuffle<Byte> HIGH_SHUFFLE = WIDE ? VectorShuffle.fromArray(B, HIGH, 0) : null;
    private static final VectorMask<Float> MIN_LANES = WIDE ? VectorMask.fromLong(F, 0xFF00L) : null;

    public Q4_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /** 6-bit scale of sub-block j from the 12 packed bytes at s (ggml's get_scale_min_k4, scale half). */
    static int scale(MemorySegment seg, long s, int j) {
        return packedScale(seg.get(INT, s), seg.get(INT, s + 8), j);
    }

    /** 6-bit min of sub-block j (get_scale_min_k4, min half). */
    static int min(MemorySegment seg, long s, int j) {
        return packedMin(seg.get(INT, s + 4), seg.get(INT, s + 8), j);
    }

    /**
     * The packed 12 bytes read as three little-endian ints a (bytes 0-3), b (4-7), c (8-11): sub-blocks
     * 0-3 keep their scale in the low 6 bits of a's bytes, 4-7 in c's low nibbles plus a's top 2 bits.
     */
    static int packedScale(int a, int c, int j) {
        return j < 4 ? (a >>> (8 * j)) & 63 : ((c >>> (8 * (j - 4))) & 0xF) | ((a >>> (8 * (j - 4) + 6)) & 3) << 4;
    }

    /** As {@link #packedScale} for mins: b's low 6 bits, or c's high nibbles plus b's top 2 bits. */
    static int packedMin(int b, int c, int j) {
        return j < 4 ? (b >>> (8 * j)) & 63 : ((c >>> (8 * (j - 4) + 4)) & 0xF) | ((b >>> (8 * (j - 4) + 6)) & 3) << 4;
    }

    /** sum over the eight sub-blocks of min_j * sums[s + j], as a tree (no long dependency chain). */
    static float minTerm(int b, int c, float[] sums, int s) {
        float t0 = packedMin(b, c, 0) * sums[s] + packedMin(b, c, 1) * sums[s + 1];
        float t1 = packedMin(b, c, 2) * sums[s + 2] + packedMin(b, c, 3) * sums[s + 3];
        float t2 = packedMin(b, c, 4) * sums[s + 4] + packedMin(b, c, 5) * sums[s + 5];
        float t3 = packedMin(b, c, 6) * sums[s + 6] + packedMin(b, c, 7) * sums[s + 7];
        return (t0 + t1) + (t2 + t3);
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int c = e / 64;
        int high = (e % 64) / 32;
        int sub = 2 * c + high;
        int q = data.get(BYTE, base + 16 + 32 * c + e % 32) & 0xFF;
        q = high == 0 ? q & 0xF : q >> 4;
        float d = Kernels.f16(data, base) * scale(data, base + 4, sub);
        float m = Kernels.f16(data, base + 2) * min(data, base + 4, sub);
        return d * q - m;
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 256 == 0 && n % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /**
     * Sums of x per 32-element sub-block: the mins are taken off once per sub-block through them.
     * The 16-lane kernel takes them negated, as [0 x 8, -sum x 8] per block, lane for lane with its
     * decoded [scales, mins] vector.
     */
    static float[] minSums(float[] x, int xOffset, int n) {
        float[] sums = groupSums(x, xOffset, n, 32);
        if (!WIDE) {
            return sums;
        }
        float[] padded = new float[sums.length * 2];
        for (int g = 0; g < sums.length; g++) {
            padded[(g / 8) * 16 + 8 + g % 8] = -sums[g];
        }
        return padded;
    }

    @Override
    protected float[] prepare(float[] x, int xOffset, int n) {
        return Kernels.ENABLED && n % 256 == 0 ? minSums(x, xOffset, n) : null;
    }

    @Override
    protected float dotPrepared(long offset, float[] x, int xOffset, int n, float[] sums) {
        if (sums != null && offset % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset, sums, new float[16]);
        }
        return dot(offset, x, xOffset, n);
    }

    /** One scratch for the block scales of all the rows. */
    @Override
    protected void dotRows(int r0, int r1, float[] x, int cols, float[] prepared, float[] out) {
        if (prepared == null || cols % 256 != 0) {
            super.dotRows(r0, r1, x, cols, prepared, out);
            return;
        }
        float[] scales = new float[16];
        for (int r = r0; r < r1; r++) {
            out[r] = dotBlocks((long) r * cols / 256, cols / 256, x, 0, prepared, scales);
        }
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        if (!Kernels.ENABLED) {
            for (int e = 0; e < 256; e++) {
                out[o + e] = getFloat(block * 256 + e);
            }
            return;
        }
        long base = block * BYTES;
        float d = Kernels.f16(data, base);
        float dmin = Kernels.f16(data, base + 2);
        int a = data.get(INT, base + 4);
        int b = data.get(INT, base + 8);
        int c3 = data.get(INT, base + 12);
        for (int c = 0; c < 4; c++) {
            FloatVector d1 = FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c));
            FloatVector m1 = FloatVector.broadcast(F, dmin * packedMin(b, c3, 2 * c));
            FloatVector d2 = FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c + 1));
            FloatVector m2 = FloatVector.broadcast(F, dmin * packedMin(b, c3, 2 * c + 1));
            for (int l = 0; l < 32; l += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                ((FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * c + l);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).convertShape(VectorOperators.I2F, F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * c + 32 + l);
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        return dotBlocks(firstBlock, blocks, x, xOffset, minSums(x, xOffset, blocks * 256), new float[16]);
    }

    /**
     * sum over sub-blocks of d*sc * (sum q*x) - dmin*m * (sum x): codes are multiplied raw, each
     * sub-block's scale is applied once to its partial sum, and the mins go through the prepared x
     * sums (see {@link #minSums}).
     */
    private float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset, float[] sums, float[] scales) {
        return WIDE ? dotBlocks16(firstBlock, blocks, x, xOffset, sums, scales) : dotBlocksNarrow(firstBlock, blocks, x, xOffset, sums);
    }

    /**
     * 16 lanes. The sixteen 6-bit scales and mins of a block are decoded in one vector (decoding
     * them in scalar code cost more than the weights), the min term is one multiply-add against the
     * prepared [0 x 8, -sum x 8] sums, and each 16-byte load of codes is widened once (zero-extended,
     * so the high nibble needs no mask) and feeds two sub-blocks. Only one vector leaves the loop
     * (see Q6_KTensor).
     */
    private float dotBlocks16(long firstBlock, int blocks, float[] x, int xOffset, float[] sums, float[] scales) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < blocks; i++) {
            long base = (firstBlock + i) * BYTES;
            int xo = xOffset + i * 256;
            decodeScales(data, base, scales);
            acc = FloatVector.fromArray(F, scales, 0).fma(FloatVector.fromArray(F, sums, i * 16), acc);
            long q = base + 16;
            for (int c = 0; c < 4; c++) {
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, q + 32 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, q + 32 * c + 16, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                int xc = xo + 64 * c;
                FloatVector lo = ((FloatVector) q0.and(0xF).convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xc));
                lo = ((FloatVector) q1.and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xc + 16), lo);
                FloatVector hi = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xc + 32));
                hi = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xc + 48), hi);
                FloatVector chunk = lo.mul(FloatVector.broadcast(F, scales[2 * c]));
                acc = acc.add(hi.fma(FloatVector.broadcast(F, scales[2 * c + 1]), chunk));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Writes [d * sc_0..7, dmin * m_0..7] of the super-block at {@code base} (the header Q4_K and
     * Q5_K share) into out[0..16), decoded in one 16-lane vector. No vector crosses this call, so it
     * is safe whether or not C2 inlines it.
     */
    static void decodeScales(MemorySegment data, long base, float[] out) {
        ByteVector packed = ByteVector.fromMemorySegment(B, data, base + 4, ByteOrder.LITTLE_ENDIAN);
        IntVector lowBits = (IntVector) packed.rearrange(LOW_SHUFFLE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
        IntVector highBits = (IntVector) packed.rearrange(HIGH_SHUFFLE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
        IntVector codes = lowBits.and(IntVector.fromArray(I, LOW_MASK, 0)).lanewise(VectorOperators.LSHR, IntVector.fromArray(I, LOW_SHIFT, 0))
                .or(highBits.and(IntVector.fromArray(I, HIGH_MASK, 0)).lanewise(VectorOperators.LSHR, 2));
        FloatVector d = FloatVector.broadcast(F, Kernels.f16(data, base));
        FloatVector dmin = FloatVector.broadcast(F, Kernels.f16(data, base + 2));
        ((FloatVector) codes.convertShape(VectorOperators.I2F, F, 0)).mul(d.blend(dmin, MIN_LANES)).intoArray(out, 0);
    }

    /** 8 lanes (AVX2): scalar scale decoding, the mins as a scalar tree per block. */
    private float dotBlocksNarrow(long firstBlock, int blocks, float[] x, int xOffset, float[] sums) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0f;
        for (int i = 0; i < blocks; i++) {
            long base = (firstBlock + i) * BYTES;
            int xo = xOffset + i * 256;
            float d = Kernels.f16(data, base);
            float dmin = Kernels.f16(data, base + 2);
            int a = data.get(INT, base + 4);
            int b = data.get(INT, base + 8);
            int c3 = data.get(INT, base + 12);
            for (int c = 0; c < 4; c++) {
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int l = 0; l < 32; l += L) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                    lo = ((FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + l), lo);
                    hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + 32 + l), hi);
                }
                FloatVector chunk = lo.mul(FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c)));
                acc = acc.add(hi.fma(FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c + 1)), chunk));
            }
            // One dependent step per block: a chain of eight per block bounded the whole kernel.
            mins = Math.fma(dmin, minTerm(b, c3, sums, i * 8), mins);
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }
}
