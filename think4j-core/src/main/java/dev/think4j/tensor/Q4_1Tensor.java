package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.B;
import static dev.think4j.tensor.Kernels.BYTE;
import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.L;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.FloatVector;

/** Q4_1: blocks of 32 as {f16 d; f16 m; u8 qs[16]}; nibble order as Q4_0; value = q * d + m. */
public final class Q4_1Tensor extends QuantizedTensor {
    private static final int BYTES = 20;

    public Q4_1Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        int j = (int) (index % 32);
        int q = data.get(BYTE, base + 4 + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
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
        for (int j = 0; j < 16; j++) {
            int q = data.get(BYTE, base + 4 + j);
            out[o + j] = (q & 0xF) * d + m;
            out[o + j + 16] = ((q >> 4) & 0xF) * d + m;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            // sum((q*d + m) * x) = d * sum(q*x) + m * sum(x): two running sums, scaled once per block.
            FloatVector qx = FloatVector.zero(F);
            FloatVector sx = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, data, base + 4 + j, ByteOrder.LITTLE_ENDIAN);
                FloatVector x0 = FloatVector.fromArray(F, x, xo + j);
                FloatVector x1 = FloatVector.fromArray(F, x, xo + 16 + j);
                qx = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(x0, qx);
                qx = ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(x1, qx);
                sx = sx.add(x0).add(x1);
            }
            acc = qx.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
            acc = sx.fma(FloatVector.broadcast(F, Kernels.f16(data, base + 2)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
