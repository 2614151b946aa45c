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
        if (j < 4) {
            return seg.get(BYTE, s + j) & 63;
        }
        return (seg.get(BYTE, s + j + 4) & 0xF) | ((seg.get(BYTE, s + j - 4) & 0xFF) >> 6) << 4;
    }

    /** 6-bit min of sub-block j (get_scale_min_k4, min half). */
    static int min(MemorySegment seg, long s, int j) {
        if (j < 4) {
            return seg.get(BYTE, s + j + 4) & 63;
        }
        return ((seg.get(BYTE, s + j + 4) & 0xFF) >> 4) | ((seg.get(BYTE, s + j) & 0xFF) >> 6) << 4;
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

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base);
        float dmin = Kernels.f16(data, base + 2);
        for (int c = 0; c < 4; c++) {
            float d1 = d * scale(data, base + 4, 2 * c);
            float m1 = dmin * min(data, base + 4, 2 * c);
            float d2 = d * scale(data, base + 4, 2 * c + 1);
            float m2 = dmin * min(data, base + 4, 2 * c + 1);
            for (int l = 0; l < 32; l++) {
                int q = data.get(BYTE, base + 16 + 32 * c + l) & 0xFF;
                out[o + 64 * c + l] = d1 * (q & 0xF) - m1;
                out[o + 64 * c + 32 + l] = d2 * (q >> 4) - m2;
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        // One accumulator across all blocks: a per-block reduceLanes is not always intrinsified and
        // then falls back to lane-by-lane extraction.
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < blocks; i++) {
            long block = firstBlock + i;
            int xOff = xOffset + i * 256;
            long base = block * BYTES;
            int xo = xOff;
            float d = Kernels.f16(data, base);
            float dmin = Kernels.f16(data, base + 2);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * scale(data, base + 4, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * min(data, base + 4, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, d * scale(data, base + 4, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * min(data, base + 4, 2 * c + 1));
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, data, base + 16 + 32 * c + l, ByteOrder.LITTLE_ENDIAN);
                    FloatVector w0 = Kernels.bytesToFloats(q.and((byte) 0xF)).fma(d1, m1);
                    FloatVector w1 = Kernels.bytesToFloats(Kernels.shr(q, 4).and((byte) 0xF)).fma(d2, m2);
                    acc = w0.fma(FloatVector.fromArray(F, x, xo + 64 * c + l), acc);
                    acc = w1.fma(FloatVector.fromArray(F, x, xo + 64 * c + 32 + l), acc);
                }
            }
        }
        return dev.think4j.kv.VectorMath.sumLanes(acc);
    }
}
