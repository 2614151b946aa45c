package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.B;
import static dev.think4j.tensor.Kernels.BYTE;
import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.L;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q3_K: super-blocks of 256 as {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}. Sixteen sub-blocks of 16
 * have 6-bit scales stored biased by 32; value = d*(scale-32) * (q - 4) with the 3-bit q split as
 * low two bits in qs (same placement as Q2_K: element 128h + 32j + l uses bits 2j of qs[32h + l]) and
 * the high bit in bit 4h + j of hmask[l].
 */
public final class Q3_KTensor extends QuantizedTensor {
    private static final int BYTES = 110;

    public Q3_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    /**
     * Signed scale of sub-block s: low nibbles of bytes 0..7 for s < 8, their high nibbles for s >= 8,
     * and the top two bits from byte 8 + s % 4 at bit 2 * (s / 4).
     */
    static int scale(MemorySegment seg, long sc, int s) {
        int low = (seg.get(BYTE, sc + (s & 7)) >> (s < 8 ? 0 : 4)) & 0xF;
        int high = (seg.get(BYTE, sc + 8 + (s & 3)) >> (2 * (s >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int h = e / 128;
        int j = (e % 128) / 32;
        int l = e % 32;
        int q = (data.get(BYTE, base + 32 + 32 * h + l) >> (2 * j)) & 3;
        int hi = (data.get(BYTE, base + l) >> (4 * h + j)) & 1;
        float dl = Kernels.f16(data, base + 108) * scale(data, base + 96, e / 16);
        return dl * (q - (hi != 0 ? 0 : 4));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 256 == 0 && n % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /** q - 4 per byte lane from the low two bits (already extracted) and bit b of the hmask bytes: 4 is added back where that bit is set. */
    private static ByteVector minus4(ByteVector lo, ByteVector hm, int b) {
        VectorMask<Byte> clear = hm.and((byte) (1 << b)).compare(VectorOperators.EQ, (byte) 0);
        return lo.lanewise(VectorOperators.SUB, (byte) 4, clear);
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base + 108);
        for (int s = 0; s < 16; s++) {
            float dl = d * scale(data, base + 96, s);
            int h = s / 8;
            int j = (s % 8) / 2;
            int l0 = 16 * (s % 2);
            long q = base + 32 + 32 * h + l0;
            long hm = base + l0;
            int y = o + 16 * s;
            if (Kernels.ENABLED) {
                // q - 4 is formed exactly in byte lanes, so dl * it rounds once, as in ggml.
                FloatVector dv = FloatVector.broadcast(F, dl);
                for (int l = 0; l < 16; l += L) {
                    ByteVector lo = ByteVector.fromMemorySegment(B, data, q + l, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                    ByteVector hmv = ByteVector.fromMemorySegment(B, data, hm + l, ByteOrder.LITTLE_ENDIAN);
                    ((FloatVector) minus4(lo, hmv, 4 * h + j).convertShape(VectorOperators.B2F, F, 0)).mul(dv).intoArray(out, y + l);
                }
            } else {
                for (int l = 0; l < 16; l++) {
                    int lo = (data.get(BYTE, q + l) >> (2 * j)) & 3;
                    int hi = (data.get(BYTE, hm + l) >> (4 * h + j)) & 1;
                    out[y + l] = dl * (lo - (hi != 0 ? 0 : 4));
                }
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        // One accumulator across all blocks: a per-block reduceLanes is not always intrinsified and
        // then falls back to lane-by-lane extraction.
        FloatVector acc = FloatVector.zero(F);
        float[] scales = new float[16];
        for (int blk = 0; blk < blocks; blk++) {
            long base = (firstBlock + blk) * BYTES;
            int xo = xOffset + blk * 256;
            float d = Kernels.f16(data, base + 108);
            for (int s = 0; s < 16; s++) {
                scales[s] = d * scale(data, base + 96, s);
            }
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += L) {
                    ByteVector hm = ByteVector.fromMemorySegment(B, data, base + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector q = ByteVector.fromMemorySegment(B, data, base + 32 + 32 * h + l, ByteOrder.LITTLE_ENDIAN);
                    int s0 = 8 * h + l / 16;
                    for (int j = 0; j < 4; j++) {
                        FloatVector dl = FloatVector.broadcast(F, scales[s0 + 2 * j]);
                        ByteVector lo = j == 0 ? q.and((byte) 3) : q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                        FloatVector w = ((FloatVector) minus4(lo, hm, 4 * h + j).convertShape(VectorOperators.B2F, F, 0)).mul(dl);
                        acc = w.fma(FloatVector.fromArray(F, x, xo + 128 * h + 32 * j + l), acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
