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
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/** Q5_1: blocks of 32 as {f16 d; f16 m; u32 qh; u8 qs[16]}; bits as Q5_0; value = q * d + m. */
public final class Q5_1Tensor extends QuantizedTensor {
    private static final int BYTES = 24;

    public Q5_1Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        int j = (int) (index % 32);
        int q = data.get(BYTE, base + 8 + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
        q |= ((data.get(INT, base + 4) >>> j) & 1) << 4;
        return q * Kernels.f16(data, base) + Kernels.f16(data, base + 2);
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
        float m = Kernels.f16(data, base + 2);
        int qh = data.get(INT, base + 4);
        for (int j = 0; j < 16; j++) {
            int q = data.get(BYTE, base + 8 + j);
            out[o + j] = ((q & 0xF) | ((qh >>> j) & 1) << 4) * d + m;
            out[o + j + 16] = (((q >> 4) & 0xF) | ((qh >>> (j + 16)) & 1) << 4) * d + m;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            IntVector qh = IntVector.broadcast(I, data.get(INT, base + 4));
            FloatVector qx = FloatVector.zero(F);
            FloatVector sx = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, data, base + 8 + j, ByteOrder.LITTLE_ENDIAN);
                IntVector lo = ((IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0)).or(Q5_0Tensor.fifthBit(qh, j));
                IntVector hi = ((IntVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0)).or(Q5_0Tensor.fifthBit(qh, 16 + j));
                FloatVector x0 = FloatVector.fromArray(F, x, xo + j);
                FloatVector x1 = FloatVector.fromArray(F, x, xo + 16 + j);
                qx = ((FloatVector) lo.convertShape(VectorOperators.I2F, F, 0)).fma(x0, qx);
                qx = ((FloatVector) hi.convertShape(VectorOperators.I2F, F, 0)).fma(x1, qx);
                sx = sx.add(x0).add(x1);
            }
            acc = qx.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
            acc = sx.fma(FloatVector.broadcast(F, Kernels.f16(data, base + 2)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
