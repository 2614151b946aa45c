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
import jdk.incubator.vector.VectorOperators;

/** Q8_0: blocks of 32 as {f16 d; int8 qs[32]}, value = qs[i] * d. */
public final class Q8_0Tensor extends QuantizedTensor {
    private static final int BYTES = 34;

    public Q8_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        return data.get(BYTE, base + 2 + index % 32) * Kernels.f16(data, base);
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
        if (Kernels.ENABLED) {
            // prefill decodes every row once per chunk: vectors, with getFloat's single rounding
            FloatVector dv = FloatVector.broadcast(F, d);
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(dv).intoArray(out, o + j);
            }
            return;
        }
        for (int i = 0; i < 32; i++) {
            out[o + i] = data.get(BYTE, base + 2 + i) * d;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            // Integer products are summed unscaled and the block scale applied once.
            FloatVector blk = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN);
                blk = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + j), blk);
            }
            acc = blk.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
