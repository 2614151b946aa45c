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

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base);
        float dmin = Kernels.f16(data, base + 2);
        for (int c = 0; c < 4; c++) {
            float d1 = d * Q4_KTensor.scale(data, base + 4, 2 * c);
            float m1 = dmin * Q4_KTensor.min(data, base + 4, 2 * c);
            float d2 = d * Q4_KTensor.scale(data, base + 4, 2 * c + 1);
            float m2 = dmin * Q4_KTensor.min(data, base + 4, 2 * c + 1);
            for (int l = 0; l < 32; l++) {
                int q = data.get(BYTE, base + 48 + 32 * c + l) & 0xFF;
                int h = data.get(BYTE, base + 16 + l) >> (2 * c);
                out[o + 64 * c + l] = d1 * ((q & 0xF) | (h & 1) << 4) - m1;
                out[o + 64 * c + 32 + l] = d2 * ((q >> 4) | (h & 2) << 3) - m2;
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        // One accumulator across all blocks: a per-block reduceLanes is not always intrinsified and
        // then falls back to lane-by-lane extraction.
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = firstBlock + b;
            int xOff = xOffset + b * 256;
            long base = block * BYTES;
            int xo = xOff;
            float d = Kernels.f16(data, base);
            float dmin = Kernels.f16(data, base + 2);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * Q4_KTensor.scale(data, base + 4, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, -dmin * Q4_KTensor.min(data, base + 4, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, d * Q4_KTensor.scale(data, base + 4, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, -dmin * Q4_KTensor.min(data, base + 4, 2 * c + 1));
                // The 5th bit is isolated in place (value 2^(2c) or 2^(2c+1)), widened, and weighted by
                // d*sc*16 / 2^k: no byte-lane shifts or masks, which cost several instructions each on x86.
                // Scalar-argument lane ops with non-constant values compile poorly; broadcast explicitly.
                ByteVector bit0 = ByteVector.broadcast(B, (byte) (1 << (2 * c)));
                ByteVector bit1 = ByteVector.broadcast(B, (byte) (2 << (2 * c)));
                FloatVector h1 = d1.mul(FloatVector.broadcast(F, 16f / (1 << (2 * c))));
                // Bit 7 (c = 3) reads as -128 in a signed byte lane, hence the sign flip.
                FloatVector h2 = d2.mul(FloatVector.broadcast(F, (c == 3 ? -8f : 8f) / (1 << (2 * c))));
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, data, base + 48 + 32 * c + l, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, data, base + 16 + l, ByteOrder.LITTLE_ENDIAN);
                    FloatVector w0 = Kernels.bytesToFloats(q.and((byte) 0xF)).fma(d1, m1);
                    FloatVector w1 = Kernels.bytesToFloats(Kernels.shr(q, 4).and((byte) 0xF)).fma(d2, m2);
                    w0 = Kernels.bytesToFloats(h.and(bit0)).fma(h1, w0);
                    w1 = Kernels.bytesToFloats(h.and(bit1)).fma(h2, w1);
                    acc = w0.fma(FloatVector.fromArray(F, x, xo + 64 * c + l), acc);
                    acc = w1.fma(FloatVector.fromArray(F, x, xo + 64 * c + 32 + l), acc);
                }
            }
        }
        return dev.think4j.kv.VectorMath.sumLanes(acc);
    }
}
