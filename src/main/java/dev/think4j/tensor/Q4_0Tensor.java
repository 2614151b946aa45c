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

/** Q4_0: blocks of 32 as {f16 d; u8 qs[16]}; low nibbles are elements 0..15, high 16..31; value = (q - 8) * d. */
public final class Q4_0Tensor extends QuantizedTensor {
    private static final int BYTES = 18;

    public Q4_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        int j = (int) (index % 32);
        int q = data.get(BYTE, base + 2 + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
        return (q - 8) * Kernels.f16(data, base);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 32 == 0 && n % 32 == 0) {
            return dotBlocks(offset / 32, n / 32, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base);
        for (int j = 0; j < 16; j++) {
            int q = data.get(BYTE, base + 2 + j);
            out[o + j] = ((q & 0xF) - 8) * d;
            out[o + j + 16] = (((q >> 4) & 0xF) - 8) * d;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            FloatVector blk = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN);
                FloatVector lo = Kernels.bytesToFloats(q.and((byte) 0xF)).sub(8f);
                FloatVector hi = Kernels.bytesToFloats(Kernels.shr(q, 4).and((byte) 0xF)).sub(8f);
                blk = lo.fma(FloatVector.fromArray(F, x, xo + j), blk);
                blk = hi.fma(FloatVector.fromArray(F, x, xo + 16 + j), blk);
            }
            acc = blk.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
        }
        return dev.think4j.kv.VectorMath.sumLanes(acc);
    }
}
