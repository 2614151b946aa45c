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

/**
 * Q2_K: super-blocks of 256 as {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}. Sub-block s (16 elements)
 * has scale byte scales[s]: value = d*(sc & 15)*q - dmin*(sc >> 4). Each half h (128 elements) uses
 * qs[32h..32h+32); element 128h + 32j + l takes bits 2j..2j+1 of qs[32h + l], so e / 16 is its sub-block.
 */
public final class Q2_KTensor extends QuantizedTensor {
    private static final int BYTES = 84;

    public Q2_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int sc = data.get(BYTE, base + e / 16) & 0xFF;
        int q = (data.get(BYTE, base + 16 + 32 * (e / 128) + e % 32) >> (2 * ((e % 128) / 32))) & 3;
        // ggml's order: (d * scale) * q - (dmin * min), each product rounded separately (no FMA).
        float dl = Kernels.f16(data, base + 80) * (sc & 0xF);
        float ml = Kernels.f16(data, base + 82) * (sc >> 4);
        return dl * q - ml;
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
        float d = Kernels.f16(data, base + 80);
        float dmin = Kernels.f16(data, base + 82);
        for (int s = 0; s < 16; s++) {
            int sc = data.get(BYTE, base + s) & 0xFF;
            float dl = d * (sc & 0xF);
            float ml = dmin * (sc >> 4);
            long q = base + 16 + 32 * (s / 8) + 16 * (s % 2);
            int shift = 2 * ((s % 8) / 2);
            int y = o + 16 * s;
            if (Kernels.ENABLED) {
                // mul then sub, lane by lane: the same two roundings as the scalar form.
                FloatVector dv = FloatVector.broadcast(F, dl);
                FloatVector mv = FloatVector.broadcast(F, ml);
                for (int l = 0; l < 16; l += L) {
                    ByteVector b = ByteVector.fromMemorySegment(B, data, q + l, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) 3);
                    ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).mul(dv).sub(mv).intoArray(out, y + l);
                }
            } else {
                for (int l = 0; l < 16; l++) {
                    out[y + l] = dl * ((data.get(BYTE, q + l) >> shift) & 3) - ml;
                }
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        // One accumulator across all blocks: a per-block reduceLanes is not always intrinsified and
        // then falls back to lane-by-lane extraction.
        FloatVector acc = FloatVector.zero(F);
        for (int blk = 0; blk < blocks; blk++) {
            long base = (firstBlock + blk) * BYTES;
            int xo = xOffset + blk * 256;
            float d = Kernels.f16(data, base + 80);
            float dmin = Kernels.f16(data, base + 82);
            for (int h = 0; h < 2; h++) {
                long qs = base + 16 + 32 * h;
                for (int l = 0; l < 32; l += L) {
                    // The 2-bit fields of one byte run belong to four sub-blocks (j = 0..3), all read from one load.
                    ByteVector q = ByteVector.fromMemorySegment(B, data, qs + l, ByteOrder.LITTLE_ENDIAN);
                    int s0 = 8 * h + l / 16;
                    for (int j = 0; j < 4; j++) {
                        int sc = data.get(BYTE, base + s0 + 2 * j) & 0xFF;
                        FloatVector dl = FloatVector.broadcast(F, d * (sc & 0xF));
                        FloatVector ml = FloatVector.broadcast(F, -dmin * (sc >> 4));
                        ByteVector qj = j == 0 ? q.and((byte) 3) : q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * j).reinterpretAsBytes().and((byte) 3);
                        FloatVector w = ((FloatVector) qj.convertShape(VectorOperators.B2F, F, 0)).fma(dl, ml);
                        acc = w.fma(FloatVector.fromArray(F, x, xo + 128 * h + 32 * j + l), acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
