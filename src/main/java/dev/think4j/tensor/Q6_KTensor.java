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

/**
 * Q6_K: super-blocks of 256 as {u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}; value = d * scales[e/16] * (q - 32).
 * Each half h (128 elements) uses ql[64h..], qh[32h..]; for l in 0..31 the elements l, l+32, l+64, l+96
 * take low nibble of ql[l], low of ql[l+32], high of ql[l], high of ql[l+32], and bit pairs 0,2,4,6 of qh[l].
 */
public final class Q6_KTensor extends QuantizedTensor {
    private static final int BYTES = 210;

    public Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int half = e / 128;
        int k = (e % 128) / 32;
        int l = e % 32;
        int ql = data.get(BYTE, base + 64 * half + l + (k & 1) * 32) & 0xFF;
        ql = k < 2 ? ql & 0xF : ql >> 4;
        int qh = (data.get(BYTE, base + 128 + 32 * half + l) >> (2 * k)) & 3;
        float d = Kernels.f16(data, base + 208) * data.get(BYTE, base + 192 + e / 16);
        return d * ((ql | qh << 4) - 32);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 256 == 0 && n % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base + 208);
        for (int half = 0; half < 2; half++) {
            long ql = base + 64 * half;
            long qh = base + 128 + 32 * half;
            long sc = base + 192 + 8 * half;
            int y = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = data.get(BYTE, ql + l) & 0xFF;
                int b = data.get(BYTE, ql + l + 32) & 0xFF;
                int h = data.get(BYTE, qh + l) & 0xFF;
                out[y + l] = d * data.get(BYTE, sc + is) * (((a & 0xF) | (h & 3) << 4) - 32);
                out[y + l + 32] = d * data.get(BYTE, sc + is + 2) * (((b & 0xF) | ((h >> 2) & 3) << 4) - 32);
                out[y + l + 64] = d * data.get(BYTE, sc + is + 4) * (((a >> 4) | ((h >> 4) & 3) << 4) - 32);
                out[y + l + 96] = d * data.get(BYTE, sc + is + 6) * (((b >> 4) | ((h >> 6) & 3) << 4) - 32);
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
            long block = firstBlock + blk;
            int xOff = xOffset + blk * 256;
            long base = block * BYTES;
            float d = Kernels.f16(data, base + 208);
            for (int k = 0; k < 16; k++) {
                scales[k] = d * data.get(BYTE, base + 192 + k);
            }
            for (int half = 0; half < 2; half++) {
                long ql = base + 64 * half;
                long qh = base + 128 + 32 * half;
                int sc = 8 * half;
                int xo = xOff + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector a = ByteVector.fromMemorySegment(B, data, ql + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector b = ByteVector.fromMemorySegment(B, data, ql + l + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, data, qh + l, ByteOrder.LITTLE_ENDIAN);
                    // Unpack in byte lanes (6-bit values fit), re-centre after widening to floats.
                    ByteVector q1 = a.and((byte) 0xF).or(Kernels.shl(h.and((byte) 3), 4));
                    ByteVector q2 = b.and((byte) 0xF).or(Kernels.shl(h.and((byte) 0xC), 2));
                    ByteVector q3 = Kernels.shr(a, 4).and((byte) 0xF).or(h.and((byte) 0x30));
                    ByteVector q4 = Kernels.shr(b, 4).and((byte) 0xF).or(Kernels.shr(h, 2).and((byte) 0x30));
                    acc = Kernels.bytesToFloats(q1).sub(32f).mul(FloatVector.broadcast(F, scales[sc + is])).fma(FloatVector.fromArray(F, x, xo + l), acc);
                    acc = Kernels.bytesToFloats(q2).sub(32f).mul(FloatVector.broadcast(F, scales[sc + is + 2])).fma(FloatVector.fromArray(F, x, xo + l + 32), acc);
                    acc = Kernels.bytesToFloats(q3).sub(32f).mul(FloatVector.broadcast(F, scales[sc + is + 4])).fma(FloatVector.fromArray(F, x, xo + l + 64), acc);
                    acc = Kernels.bytesToFloats(q4).sub(32f).mul(FloatVector.broadcast(F, scales[sc + is + 6])).fma(FloatVector.fromArray(F, x, xo + l + 96), acc);
                }
            }
        }
        return dev.think4j.kv.VectorMath.sumLanes(acc);
    }
}
