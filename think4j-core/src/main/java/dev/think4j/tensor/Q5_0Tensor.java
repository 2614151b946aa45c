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
 * Q5_0: blocks of 32 as {f16 d; u32 qh; u8 qs[16]}; nibbles as Q4_0, bit i of qh is the 5th bit of
 * element i; value = (q - 16) * d.
 */
public final class Q5_0Tensor extends QuantizedTensor {
    private static final int BYTES = 22;

    public Q5_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        int j = (int) (index % 32);
        int q = data.get(BYTE, base + 6 + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
        q |= ((data.get(INT, base + 2) >>> j) & 1) << 4;
        return (q - 16) * Kernels.f16(data, base);
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
        int qh = data.get(INT, base + 2);
        for (int j = 0; j < 16; j++) {
            int q = data.get(BYTE, base + 6 + j);
            out[o + j] = (((q & 0xF) | ((qh >>> j) & 1) << 4) - 16) * d;
            out[o + j + 16] = ((((q >> 4) & 0xF) | ((qh >>> (j + 16)) & 1) << 4) - 16) * d;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            IntVector qh = IntVector.broadcast(I, data.get(INT, base + 2));
            FloatVector blk = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, data, base + 6 + j, ByteOrder.LITTLE_ENDIAN);
                IntVector lo = ((IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0)).or(fifthBit(qh, j)).sub(16);
                IntVector hi = ((IntVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0)).or(fifthBit(qh, 16 + j)).sub(16);
                blk = ((FloatVector) lo.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + j), blk);
                blk = ((FloatVector) hi.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 16 + j), blk);
            }
            acc = blk.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Lane k gets 16 when bit (first + k) of qh is set. */
    static IntVector fifthBit(IntVector qh, int first) {
        return qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, Kernels.IOTA32, first))
                .and(1).lanewise(VectorOperators.LSHL, 4);
    }
}
