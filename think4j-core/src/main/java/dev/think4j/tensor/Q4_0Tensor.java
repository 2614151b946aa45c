package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.B;
import static dev.think4j.tensor.Kernels.BYTE;
import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.I;
import static dev.think4j.tensor.Kernels.L;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

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
            return dotBlocks(offset / 32, n / 32, x, xOffset, blockSums(x, xOffset, n));
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /** The sum of each 32-block of x: the kernel multiplies raw nibbles and subtracts 8 * d * sum once per block. */
    @Override
    protected float[] prepare(float[] x, int xOffset, int n) {
        return Kernels.ENABLED && n % 32 == 0 ? blockSums(x, xOffset, n) : null;
    }

    @Override
    protected float dotPrepared(long offset, float[] x, int xOffset, int n, float[] sums) {
        if (sums != null && offset % 32 == 0) {
            return dotBlocks(offset / 32, n / 32, x, xOffset, sums);
        }
        return dot(offset, x, xOffset, n);
    }

    private static float[] blockSums(float[] x, int xOffset, int n) {
        return groupSums(x, xOffset, n, 32);
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base);
        if (L == 16) {
            // prefill decodes every row once per chunk: vectors, with getFloat's arithmetic
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector dv = FloatVector.broadcast(F, d);
            ((FloatVector) q.and(0xF).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(dv).intoArray(out, o);
            ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(dv).intoArray(out, o + 16);
            return;
        }
        for (int j = 0; j < 16; j++) {
            int q = data.get(BYTE, base + 2 + j);
            out[o + j] = ((q & 0xF) - 8) * d;
            out[o + j + 16] = (((q >> 4) & 0xF) - 8) * d;
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        return dotBlocks(firstBlock, blocks, x, xOffset, blockSums(x, xOffset, blocks * 32));
    }

    /**
     * sum_b d_b * (sum_j q_j x_j - 8 * sum_j x_j): the nibbles are widened to int lanes once and
     * split there (low nibble = elements 0..15, high = 16..31), and the -8 offset costs one scalar
     * multiply-add per block instead of a vector subtraction per half block.
     */
    private float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset, float[] sums) {
        if (L != 16) {
            return dotBlocks8(firstBlock, blocks, x, xOffset, sums);
        }
        FloatVector acc = FloatVector.zero(F);
        float offset = 0f;
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, data, base + 2, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0));
            FloatVector lo = ((FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0));
            FloatVector hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.I2F, F, 0));
            FloatVector blk = lo.mul(FloatVector.fromArray(F, x, xo));
            blk = hi.fma(FloatVector.fromArray(F, x, xo + 16), blk);
            float d = Kernels.f16(data, base);
            acc = blk.fma(FloatVector.broadcast(F, d), acc);
            offset = Math.fma(d, sums[b], offset);
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8f * offset;
    }

    /** 8-lane (AVX2) form: each half block is 16 bytes, read as two 8-byte loads. */
    private float dotBlocks8(long firstBlock, int blocks, float[] x, int xOffset, float[] sums) {
        FloatVector acc = FloatVector.zero(F);
        float offset = 0f;
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = xOffset + b * 32;
            FloatVector blk = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0));
                blk = ((FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + j), blk);
                blk = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 16 + j), blk);
            }
            float d = Kernels.f16(data, base);
            acc = blk.fma(FloatVector.broadcast(F, d), acc);
            offset = Math.fma(d, sums[b], offset);
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8f * offset;
    }
}
