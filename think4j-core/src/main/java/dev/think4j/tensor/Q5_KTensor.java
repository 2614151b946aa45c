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
 * Q5_K: super-blocks of 256 as {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}. Scales, mins and
 * nibble order as Q4_K; the 5th bit of element 64c + l is bit 2c of qh[l], of element 64c + 32 + l bit 2c+1.
 */
public final class Q5_KTensor extends QuantizedTensor {
    private static final int BYTES = 176;

    public Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int c = e / 64;
        int high = (e % 64) / 32;
        int sub = 2 * c + high;
        int l = e % 32;
        int q = data.get(BYTE, base + 48 + 32 * c + l) & 0xFF;
        q = high == 0 ? q & 0xF : q >> 4;
        q |= ((data.get(BYTE, base + 16 + l) >> sub) & 1) << 4;
        float d = Kernels.f16(data, base) * Q4_KTensor.scale(data, base + 4, sub);
        float m = Kernels.f16(data, base + 2) * Q4_KTensor.min(data, base + 4, sub);
        return d * q - m;
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 256 == 0 && n % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /** Sums of x per 32-element sub-block, as for Q4_K. */
    @Override
    protected float[] prepare(float[] x, int xOffset, int n) {
        return Kernels.ENABLED && n % 256 == 0 ? Q4_KTensor.minSums(x, xOffset, n) : null;
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
            FloatVector d1 = FloatVector.broadcast(F, d * Q4_KTensor.packedScale(a, c3, 2 * c));
            FloatVector m1 = FloatVector.broadcast(F, dmin * Q4_KTensor.packedMin(b, c3, 2 * c));
            FloatVector d2 = FloatVector.broadcast(F, d * Q4_KTensor.packedScale(a, c3, 2 * c + 1));
            FloatVector m2 = FloatVector.broadcast(F, dmin * Q4_KTensor.packedMin(b, c3, 2 * c + 1));
            for (int l = 0; l < 32; l += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 48 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector h1 = h.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h2 = h.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) q.and(0xF).or(h1).convertShape(VectorOperators.I2F, F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * c + l);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h2).convertShape(VectorOperators.I2F, F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * c + 32 + l);
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        return dotBlocks(firstBlock, blocks, x, xOffset, Q4_KTensor.minSums(x, xOffset, blocks * 256), new float[16]);
    }

    /** As Q4_K's kernels, with the fifth bits: each chunk moves its two bits of qh to bit 4 in int lanes. */
    private float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset, float[] sums, float[] scales) {
        return Q4_KTensor.WIDE ? dotBlocks16(firstBlock, blocks, x, xOffset, sums, scales) : dotBlocksNarrow(firstBlock, blocks, x, xOffset, sums);
    }

    private float dotBlocks16(long firstBlock, int blocks, float[] x, int xOffset, float[] sums, float[] scales) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < blocks; i++) {
            long base = (firstBlock + i) * BYTES;
            int xo = xOffset + i * 256;
            Q4_KTensor.decodeScales(data, base, scales);
            acc = FloatVector.fromArray(F, scales, 0).fma(FloatVector.fromArray(F, sums, i * 16), acc);
            IntVector h0 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector h1 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 32, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            long q = base + 48;
            for (int c = 0; c < 4; c++) {
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, q + 32 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, q + 32 * c + 16, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector lo0 = q0.and(0xF).or(h0.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector lo1 = q1.and(0xF).or(h1.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi0 = q0.lanewise(VectorOperators.LSHR, 4).or(h0.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi1 = q1.lanewise(VectorOperators.LSHR, 4).or(h1.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                int xc = xo + 64 * c;
                FloatVector lo = ((FloatVector) lo0.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xc));
                lo = ((FloatVector) lo1.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xc + 16), lo);
                FloatVector hi = ((FloatVector) hi0.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xc + 32));
                hi = ((FloatVector) hi1.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xc + 48), hi);
                FloatVector chunk = lo.mul(FloatVector.broadcast(F, scales[2 * c]));
                acc = acc.add(hi.fma(FloatVector.broadcast(F, scales[2 * c + 1]), chunk));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private float dotBlocksNarrow(long firstBlock, int blocks, float[] x, int xOffset, float[] sums) {
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
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 48 + 32 * c + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                    IntVector h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16 + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                    IntVector h1 = h.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector h2 = h.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                    lo = ((FloatVector) q.and(0xF).or(h1).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + l), lo);
                    hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h2).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 64 * c + 32 + l), hi);
                }
                FloatVector chunk = lo.mul(FloatVector.broadcast(F, d * Q4_KTensor.packedScale(a, c3, 2 * c)));
                acc = acc.add(hi.fma(FloatVector.broadcast(F, d * Q4_KTensor.packedScale(a, c3, 2 * c + 1)), chunk));
            }
            // One dependent step per block: a chain of eight per block bounded the whole kernel.
            mins = Math.fma(dmin, Q4_KTensor.minTerm(b, c3, sums, i * 8), mins);
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }
}
