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

/**
 * Q6_K: super-blocks of 256 as {u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d}; value = d * scales[e/16] * (q - 32).
 * Each half h (128 elements) uses ql[64h..], qh[32h..]; for l in 0..31 the elements l, l+32, l+64, l+96
 * take low nibble of ql[l], low of ql[l+32], high of ql[l], high of ql[l+32], and bit pairs 0,2,4,6 of qh[l].
 */
public final class Q6_KTensor extends QuantizedTensor {
    private static final int BYTES = 210;

    public Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        long base = index / 256 * BYTES;
        int e = (int) (index % 256);
        int half = e / 128;
        int k = (e % 128) / 32;
        int l = e % 32;
        int ql = data.get(BYTE, base + 64 * half + l + (k & 1) * 32) & 0xFF;
        ql = k < 2 ? ql & 0xF : ql >> 4;
        int qh = (data.get(BYTE, base + 128 + 32 * half + l) >> (2 * k)) & 3;
        float d = Kernels.f16(data, base + 208) * data.get(BYTE, base + 192 + e / 16);
        return d * ((ql | qh << 4) - 32);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (Kernels.ENABLED && offset % 256 == 0 && n % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset);
        }
        return dotRagged(offset, x, xOffset, n);
    }

    /** Sums of x per 16-element scale group: the -32 offset is taken off once per group through them. */
    @Override
    protected float[] prepare(float[] x, int xOffset, int n) {
        return Kernels.ENABLED && n % 256 == 0 ? groupSums(x, xOffset, n, 16) : null;
    }

    @Override
    protected float dotPrepared(long offset, float[] x, int xOffset, int n, float[] sums) {
        if (sums != null && offset % 256 == 0) {
            return dotBlocks(offset / 256, n / 256, x, xOffset, sums, new float[16]);
        }
        return dot(offset, x, xOffset, n);
    }

    /** One scratch for the block scales of all the rows. */
    @Override
    protected void dotRows(int r0, int r1, float[] x, int cols, float[] prepared, float[] out) {
        if (prepared == null || cols % 256 != 0) {
            super.dotRows(r0, r1, x, cols, prepared, out);
            return;
        }
        float[] scales = new float[16];
        for (int r = r0; r < r1; r++) {
            out[r] = dotBlocks((long) r * cols / 256, cols / 256, x, 0, prepared, scales);
        }
    }

    @Override
    void decodeBlock(long block, float[] out, int o) {
        long base = block * BYTES;
        float d = Kernels.f16(data, base + 208);
        if (!Kernels.ENABLED) {
            decodeScalar(base, d, out, o);
            return;
        }
        for (int half = 0; half < 2; half++) {
            long ql = base + 64 * half;
            long qh = base + 128 + 32 * half;
            long sc = base + 192 + 8 * half;
            int y = o + 128 * half;
            for (int l = 0; l < 32; l += L) {
                int is = l / 16;
                IntVector a = (IntVector) ByteVector.fromMemorySegment(B, data, ql + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector b = (IntVector) ByteVector.fromMemorySegment(B, data, ql + l + 32, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector h = (IntVector) ByteVector.fromMemorySegment(B, data, qh + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector q1 = a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = b.and(0xF).or(h.and(0xC).lanewise(VectorOperators.LSHL, 2)).sub(32);
                IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.and(0x30)).sub(32);
                IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                ((FloatVector) q1.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.broadcast(F, d * data.get(BYTE, sc + is))).intoArray(out, y + l);
                ((FloatVector) q2.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.broadcast(F, d * data.get(BYTE, sc + is + 2))).intoArray(out, y + l + 32);
                ((FloatVector) q3.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.broadcast(F, d * data.get(BYTE, sc + is + 4))).intoArray(out, y + l + 64);
                ((FloatVector) q4.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.broadcast(F, d * data.get(BYTE, sc + is + 6))).intoArray(out, y + l + 96);
            }
        }
    }

    private void decodeScalar(long base, float d, float[] out, int o) {
        for (int half = 0; half < 2; half++) {
            long ql = base + 64 * half;
            long qh = base + 128 + 32 * half;
            long sc = base + 192 + 8 * half;
            int y = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = data.get(BYTE, ql + l) & 0xFF;
                int b = data.get(BYTE, ql + l + 32) & 0xFF;
                int h = data.get(BYTE, qh + l) & 0xFF;
                out[y + l] = d * data.get(BYTE, sc + is) * (((a & 0xF) | (h & 3) << 4) - 32);
                out[y + l + 32] = d * data.get(BYTE, sc + is + 2) * (((b & 0xF) | ((h >> 2) & 3) << 4) - 32);
                out[y + l + 64] = d * data.get(BYTE, sc + is + 4) * (((a >> 4) | ((h >> 4) & 3) << 4) - 32);
                out[y + l + 96] = d * data.get(BYTE, sc + is + 6) * (((b >> 4) | ((h >> 6) & 3) << 4) - 32);
            }
        }
    }

    @Override
    float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset) {
        return dotBlocks(firstBlock, blocks, x, xOffset, groupSums(x, xOffset, blocks * 256, 16), new float[16]);
    }

    /**
     * sum over 16-groups of d*sc * (sum q*x - 32 * sum x): the three byte streams are widened to int
     * lanes once and the 6-bit codes assembled there (x86 has no byte-lane shifts), multiplied raw,
     * each group's scale applied once to its partial sum; the -32 offset is one vector multiply-add
     * of the block's scales with the prepared x sums. Four accumulators per block keep the four
     * code streams' chains independent; {@code scales} is the caller's scratch for 16 floats.
     */
    private float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset, float[] sums, float[] scales) {
        // Only one vector leaves the loop: combining several accumulators after it was compiled as
        // the Vector API's Java fallback on real files (allocations on every row).
        FloatVector acc = FloatVector.zero(F);
        for (int blk = 0; blk < blocks; blk++) {
            long base = (firstBlock + blk) * BYTES;
            int xb = xOffset + blk * 256;
            float d = Kernels.f16(data, base + 208);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            FloatVector acc4 = FloatVector.zero(F);
            // The sixteen scales as floats once per block, and with them the -32 offset: scales times
            // the block's sixteen x sums, as vectors (a scalar chain of sixteen dependent
            // multiply-adds per block cost more than the unpacking).
            FloatVector off = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B, data, base + 192 + k, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                FloatVector scf = (FloatVector) sc.convertShape(VectorOperators.I2F, F, 0);
                scf.intoArray(scales, k);
                off = scf.fma(FloatVector.fromArray(F, sums, blk * 16 + k), off);
            }
            for (int half = 0; half < 2; half++) {
                long ql = base + 64 * half;
                long qh = base + 128 + 32 * half;
                int sc = 8 * half;
                int xo = xb + 128 * half;
                for (int l = 0; l < 32; l += L) {
                    int is = sc + l / 16;
                    IntVector a = (IntVector) ByteVector.fromMemorySegment(B, data, ql + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector b = (IntVector) ByteVector.fromMemorySegment(B, data, ql + l + 32, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h = (IntVector) ByteVector.fromMemorySegment(B, data, qh + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                    IntVector q1 = a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
                    IntVector q2 = b.and(0xF).or(h.and(0xC).lanewise(VectorOperators.LSHL, 2));
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30));
                    IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30));
                    FloatVector p1 = ((FloatVector) q1.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + l));
                    FloatVector p2 = ((FloatVector) q2.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + l + 32));
                    FloatVector p3 = ((FloatVector) q3.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + l + 64));
                    FloatVector p4 = ((FloatVector) q4.convertShape(VectorOperators.I2F, F, 0)).mul(FloatVector.fromArray(F, x, xo + l + 96));
                    acc1 = p1.fma(FloatVector.broadcast(F, scales[is]), acc1);
                    acc2 = p2.fma(FloatVector.broadcast(F, scales[is + 2]), acc2);
                    acc3 = p3.fma(FloatVector.broadcast(F, scales[is + 4]), acc3);
                    acc4 = p4.fma(FloatVector.broadcast(F, scales[is + 6]), acc4);
                }
            }
            FloatVector blockSum = acc1.add(acc2).add(acc3.add(acc4)).add(off.mul(FloatVector.broadcast(F, -32f)));
            acc = blockSum.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
