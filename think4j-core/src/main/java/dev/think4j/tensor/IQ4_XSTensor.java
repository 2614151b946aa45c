package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.BYTE;
import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.SHORT;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IQ4_XS: super-blocks of 256 as {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}. Each of the eight
 * sub-blocks of 32 is an IQ4_NL block body (same codebook and nibble order) with a 6-bit scale biased
 * by 32: low nibble of scales_l[s/2] (high nibble for odd s), top two bits at bit 2s of scales_h;
 * value = d*(scale-32) * KVALUES[q].
 */
public final class IQ4_XSTensor extends QuantizedTensor {
    private static final int BYTES = 136;

    public IQ4_XSTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.IQ4_XS;
    }

    static int scale(MemorySegment seg, long base, int s) {
        int low = (seg.get(BYTE, base + 4 + s / 2) >> (4 * (s % 2))) & 0xF;
        int high = (seg.get(SHORT, base + 2) >> (2 * s)) & 3;
        return (low | high << 4) - 32;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int s = e / 32;
        int j = e % 32;
        int q = data.get(BYTE, base + 8 + 16 * s + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
        float dl = Kernels.f16(data, base) * scale(data, base, s);
        return dl * IQ4_NLTensor.KVALUES[q];
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
        for (int s = 0; s < 8; s++) {
            IQ4_NLTensor.decode32(data, base + 8 + 16 * s, d * scale(data, base, s), out, o + 32 * s);
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            float d = Kernels.f16(data, base);
            int xo = xOffset + 256 * b;
            for (int s = 0; s < 8; s++) {
                FloatVector blk = IQ4_NLTensor.dot32(data, base + 8 + 16 * s, x, xo + 32 * s);
                acc = blk.fma(FloatVector.broadcast(F, d * scale(data, base, s)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
