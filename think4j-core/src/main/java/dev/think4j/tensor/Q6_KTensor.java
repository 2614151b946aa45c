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
        FloatVector sumAcc = acc;
        if (Kernels.L == 16) {
            sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD8));
        }
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD4));
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD2));
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD1));
        return sumAcc.lane(0);
    }

    /** Four tokens at a time: each row of the tile is decoded once for all four. */
    @Override
    protected void dotRowsBatch(int r0, int r1, float[] x, int nTokens, int cols, float[][] prepared, float[] out, int rows) {
        if (!Kernels.ENABLED || cols % 256 != 0 || prepared[0] == null) {
            super.dotRowsBatch(r0, r1, x, nTokens, cols, prepared, out, rows);
            return;
        }
        int blocks = cols / 256;
        float[] scales = new float[16];
        // tokens outer: four inputs stay in cache while the tile's rows (a few tens of KB) pass by
        int t = 0;
        for (; t + 4 <= nTokens; t += 4) {
            for (int r = r0; r < r1; r++) {
                long first = (long) r * blocks;
                dotBlocks4(first, blocks, x, t * cols, cols, prepared, t, scales, out, t * rows + r, rows);
            }
        }
        for (; t < nTokens; t++) {
            for (int r = r0; r < r1; r++) {
                long first = (long) r * blocks;
                out[t * rows + r] = dotBlocks(first, blocks, x, t * cols, prepared[t], scales);
            }
        }
    }

    /**
     * {@link #dotBlocks} for the four inputs x[x0 + k * cols ..] with sums[t0 + k], k < 4, into
     * out[o + k * stride]: the codes and scales are decoded once, and each input goes through exactly
     * the operations of its own one-input call, in the same order, so the results are the same bits.
     */
    private void dotBlocks4(long firstBlock, int blocks, float[] x, int x0, int cols, float[][] sums, int t0, float[] scales,
                            float[] out, int o, int stride) {
        float[] s0 = sums[t0];
        float[] s1 = sums[t0 + 1];
        float[] s2 = sums[t0 + 2];
        float[] s3 = sums[t0 + 3];
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        for (int blk = 0; blk < blocks; blk++) {
            long base = (firstBlock + blk) * BYTES;
            int xb = x0 + blk * 256;
            FloatVector d = FloatVector.broadcast(F, Kernels.f16(data, base + 208));
            FloatVector off0 = FloatVector.zero(F);
            FloatVector off1 = FloatVector.zero(F);
            FloatVector off2 = FloatVector.zero(F);
            FloatVector off3 = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B, data, base + 192 + k, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                FloatVector scf = (FloatVector) sc.convertShape(VectorOperators.I2F, F, 0);
                scf.intoArray(scales, k);
                off0 = scf.fma(FloatVector.fromArray(F, s0, blk * 16 + k), off0);
                off1 = scf.fma(FloatVector.fromArray(F, s1, blk * 16 + k), off1);
                off2 = scf.fma(FloatVector.fromArray(F, s2, blk * 16 + k), off2);
                off3 = scf.fma(FloatVector.fromArray(F, s3, blk * 16 + k), off3);
            }
            FloatVector a01 = FloatVector.zero(F);
            FloatVector a02 = FloatVector.zero(F);
            FloatVector a03 = FloatVector.zero(F);
            FloatVector a04 = FloatVector.zero(F);
            FloatVector a11 = FloatVector.zero(F);
            FloatVector a12 = FloatVector.zero(F);
            FloatVector a13 = FloatVector.zero(F);
            FloatVector a14 = FloatVector.zero(F);
            FloatVector a21 = FloatVector.zero(F);
            FloatVector a22 = FloatVector.zero(F);
            FloatVector a23 = FloatVector.zero(F);
            FloatVector a24 = FloatVector.zero(F);
            FloatVector a31 = FloatVector.zero(F);
            FloatVector a32 = FloatVector.zero(F);
            FloatVector a33 = FloatVector.zero(F);
            FloatVector a34 = FloatVector.zero(F);
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
                    FloatVector q1 = (FloatVector) a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).convertShape(VectorOperators.I2F, F, 0);
                    FloatVector q2 = (FloatVector) b.and(0xF).or(h.and(0xC).lanewise(VectorOperators.LSHL, 2)).convertShape(VectorOperators.I2F, F, 0);
                    FloatVector q3 = (FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).convertShape(VectorOperators.I2F, F, 0);
                    FloatVector q4 = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30))
                            .convertShape(VectorOperators.I2F, F, 0);
                    FloatVector c1 = FloatVector.broadcast(F, scales[is]);
                    FloatVector c2 = FloatVector.broadcast(F, scales[is + 2]);
                    FloatVector c3 = FloatVector.broadcast(F, scales[is + 4]);
                    FloatVector c4 = FloatVector.broadcast(F, scales[is + 6]);
                    int e = xo + l;
                    a01 = q1.mul(FloatVector.fromArray(F, x, e)).fma(c1, a01);
                    a02 = q2.mul(FloatVector.fromArray(F, x, e + 32)).fma(c2, a02);
                    a03 = q3.mul(FloatVector.fromArray(F, x, e + 64)).fma(c3, a03);
                    a04 = q4.mul(FloatVector.fromArray(F, x, e + 96)).fma(c4, a04);
                    e += cols;
                    a11 = q1.mul(FloatVector.fromArray(F, x, e)).fma(c1, a11);
                    a12 = q2.mul(FloatVector.fromArray(F, x, e + 32)).fma(c2, a12);
                    a13 = q3.mul(FloatVector.fromArray(F, x, e + 64)).fma(c3, a13);
                    a14 = q4.mul(FloatVector.fromArray(F, x, e + 96)).fma(c4, a14);
                    e += cols;
                    a21 = q1.mul(FloatVector.fromArray(F, x, e)).fma(c1, a21);
                    a22 = q2.mul(FloatVector.fromArray(F, x, e + 32)).fma(c2, a22);
                    a23 = q3.mul(FloatVector.fromArray(F, x, e + 64)).fma(c3, a23);
                    a24 = q4.mul(FloatVector.fromArray(F, x, e + 96)).fma(c4, a24);
                    e += cols;
                    a31 = q1.mul(FloatVector.fromArray(F, x, e)).fma(c1, a31);
                    a32 = q2.mul(FloatVector.fromArray(F, x, e + 32)).fma(c2, a32);
                    a33 = q3.mul(FloatVector.fromArray(F, x, e + 64)).fma(c3, a33);
                    a34 = q4.mul(FloatVector.fromArray(F, x, e + 96)).fma(c4, a34);
                }
            }
            FloatVector m32 = FloatVector.broadcast(F, -32f);
            acc0 = a01.add(a02).add(a03.add(a04)).add(off0.mul(m32)).fma(d, acc0);
            acc1 = a11.add(a12).add(a13.add(a14)).add(off1.mul(m32)).fma(d, acc1);
            acc2 = a21.add(a22).add(a23.add(a24)).add(off2.mul(m32)).fma(d, acc2);
            acc3 = a31.add(a32).add(a33.add(a34)).add(off3.mul(m32)).fma(d, acc3);
        }
        FloatVector sumAcc0 = acc0;
        if (Kernels.L == 16) {
            sumAcc0 = sumAcc0.add(sumAcc0.rearrange(Kernels.FOLD8));
        }
        sumAcc0 = sumAcc0.add(sumAcc0.rearrange(Kernels.FOLD4));
        sumAcc0 = sumAcc0.add(sumAcc0.rearrange(Kernels.FOLD2));
        sumAcc0 = sumAcc0.add(sumAcc0.rearrange(Kernels.FOLD1));
        out[o] = sumAcc0.lane(0);
        FloatVector sumAcc1 = acc1;
        if (Kernels.L == 16) {
            sumAcc1 = sumAcc1.add(sumAcc1.rearrange(Kernels.FOLD8));
        }
        sumAcc1 = sumAcc1.add(sumAcc1.rearrange(Kernels.FOLD4));
        sumAcc1 = sumAcc1.add(sumAcc1.rearrange(Kernels.FOLD2));
        sumAcc1 = sumAcc1.add(sumAcc1.rearrange(Kernels.FOLD1));
        out[o + stride] = sumAcc1.lane(0);
        FloatVector sumAcc2 = acc2;
        if (Kernels.L == 16) {
            sumAcc2 = sumAcc2.add(sumAcc2.rearrange(Kernels.FOLD8));
        }
        sumAcc2 = sumAcc2.add(sumAcc2.rearrange(Kernels.FOLD4));
        sumAcc2 = sumAcc2.add(sumAcc2.rearrange(Kernels.FOLD2));
        sumAcc2 = sumAcc2.add(sumAcc2.rearrange(Kernels.FOLD1));
        out[o + 2 * stride] = sumAcc2.lane(0);
        FloatVector sumAcc3 = acc3;
        if (Kernels.L == 16) {
            sumAcc3 = sumAcc3.add(sumAcc3.rearrange(Kernels.FOLD8));
        }
        sumAcc3 = sumAcc3.add(sumAcc3.rearrange(Kernels.FOLD4));
        sumAcc3 = sumAcc3.add(sumAcc3.rearrange(Kernels.FOLD2));
        sumAcc3 = sumAcc3.add(sumAcc3.rearrange(Kernels.FOLD1));
        out[o + 3 * stride] = sumAcc3.lane(0);
    }
}
