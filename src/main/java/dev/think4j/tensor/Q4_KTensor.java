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
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K: super-blocks of 256 as {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}. Eight sub-blocks of 32
 * have 6-bit scale sc and min m; value = d*sc*q - dmin*m. Each 64-element chunk c uses qs[32c..32c+32):
 * low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
 */
public final class Q4_KTensor extends QuantizedTensor {
    private static final int BYTES = 144;

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
            return dotBlocks(offset / 256, n / 256, x, xOffset, groupSums(x, xOffset, n, 32));
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /** Sums of x per 32-element sub-block: the mins are taken off once per sub-block through them. */
    @Override
    protected float[] prepare(float[] x, int xOffset, int n) {
        return Kernels.ENABLED && n % 256 == 0 ? groupSums(x, xOffset, n, 32) : null;
    }

    @Override
    protected float dotPrepared(long offset, float[] x, int xOffset, int n, float[] sums) {
        if (sums != null && offset % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset, sums);
        }
        return dot(offset, x, xOffset, n);
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
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).castShape(I, 0);
                ((FloatVector) q.and(0xF).castShape(F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * c + l);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).castShape(F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * c + 32 + l);
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        return dotBlocks(firstBlock, blocks, x, xOffset, groupSums(x, xOffset, blocks * 256, 32));
    }

    /**
     * sum over sub-blocks of d*sc * (sum q*x) - dmin*m * (sum x): the nibbles of 16 (or 8) bytes are
     * widened to int lanes once and split there, the codes multiplied raw, each sub-block's scale
     * applied once to its partial sum, and the min term is scalar through the prepared x sums.
     */
    private float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset, float[] sums) {
        // Only one vector leaves the loop (see Q6_KTensor).
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
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).castShape(I, 0);
                    lo = ((FloatVector) q.and(0xF).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + l), lo);
                    hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + 32 + l), hi);
                }
                FloatVector chunk = lo.mul(FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c)));
                acc = acc.add(hi.fma(FloatVector.broadcast(F, d * packedScale(a, c3, 2 * c + 1)), chunk));
            }
            // One dependent step per block: a chain of eight per block bounded the whole kernel.
            mins = Math.fma(dmin, minTerm(b, c3, sums, i * 8), mins);
        }
        return dev.think4j.kv.VectorMath.sumLanes(acc) - mins;
    }
}
