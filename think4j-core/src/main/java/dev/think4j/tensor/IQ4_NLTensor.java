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
 * IQ4_NL: blocks of 32 as {f16 d; u8 qs[16]}, nibbles laid out like Q4_0 (low nibbles are elements
 * 0..15, high 16..31), but each nibble indexes a fixed non-linear codebook: value = d * KVALUES[q].
 * The lookup helpers here are shared with {@link IQ4_XSTensor}, which uses the same codebook.
 */
public final class IQ4_NLTensor extends QuantizedTensor {
    private static final int BYTES = 18;

    /** ggml's kvalues_iq4nl: denser near zero, where most weights are. */
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** The codebook as byte vectors of the kernel width: one table at 16 lanes, two halves at 8. */
    private static final ByteVector TABLE_LO = ByteVector.fromArray(B, KVALUES, 0);
    private static final ByteVector TABLE_HI = ByteVector.fromArray(B, KVALUES, L == 8 ? 8 : 0);

    public IQ4_NLTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.IQ4_NL;
    }

    /** Codebook values of nibbles 0..15 (one per lane). */
    static ByteVector lookup(ByteVector nibbles) {
        if (L == 16) {
            return nibbles.selectFrom(TABLE_LO);
        }
        return nibbles.selectFrom(TABLE_LO, TABLE_HI);
    }

    /** The 16 bytes at q decoded as 32 values scaled by dl into out[o ..], ggml's dl * kvalue rounding. */
    static void decode32(MemorySegment data, long q, float dl, float[] out, int o) {
        if (Kernels.ENABLED) {
            FloatVector dv = FloatVector.broadcast(F, dl);
            for (int j = 0; j < 16; j += L) {
                ByteVector b = ByteVector.fromMemorySegment(B, data, q + j, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) lookup(b.and((byte) 0xF)).convertShape(VectorOperators.B2F, F, 0)).mul(dv).intoArray(out, o + j);
                ((FloatVector) lookup(b.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)).convertShape(VectorOperators.B2F, F, 0)).mul(dv).intoArray(out, o + 16 + j);
            }
        } else {
            for (int j = 0; j < 16; j++) {
                int b = data.get(BYTE, q + j);
                out[o + j] = dl * KVALUES[b & 0xF];
                out[o + 16 + j] = dl * KVALUES[(b >> 4) & 0xF];
            }
        }
    }

    /** Unscaled dot of the 32 codebook values at q with x[xo .. xo + 32), as a vector to be scaled and summed. */
    static FloatVector dot32(MemorySegment data, long q, float[] x, int xo) {
        FloatVector blk = FloatVector.zero(F);
        for (int j = 0; j < 16; j += L) {
            ByteVector b = ByteVector.fromMemorySegment(B, data, q + j, ByteOrder.LITTLE_ENDIAN);
            FloatVector lo = ((FloatVector) lookup(b.and((byte) 0xF)).convertShape(VectorOperators.B2F, F, 0));
            FloatVector hi = ((FloatVector) lookup(b.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)).convertShape(VectorOperators.B2F, F, 0));
            blk = lo.fma(FloatVector.fromArray(F, x, xo + j), blk);
            blk = hi.fma(FloatVector.fromArray(F, x, xo + 16 + j), blk);
        }
        return blk;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 32 * BYTES;
        int j = (int) (index % 32);
        int q = data.get(BYTE, base + 2 + (j & 15));
        q = j < 16 ? q & 0xF : (q >> 4) & 0xF;
        return Kernels.f16(data, base) * KVALUES[q];
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
        decode32(data, base + 2, Kernels.f16(data, base), out, o);
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            FloatVector blk = dot32(data, base + 2, x, xOffset + 32 * b);
            acc = blk.fma(FloatVector.broadcast(F, Kernels.f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
