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
        FloatVector sumAcc = acc;
        if (Kernels.L == 16) {
            sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD8));
        }
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD4));
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD2));
        sumAcc = sumAcc.add(sumAcc.rearrange(Kernels.FOLD1));
        return sumAcc.lane(0);
    }

    /** Four tokens at a time: each row of the tile is read and its codes widened once for all four. */
    @Override
    protected void dotRowsBatch(int r0, int r1, float[] x, int nTokens, int cols, float[][] prepared, float[] out, int rows) {
        if (!Kernels.ENABLED || cols % 32 != 0) {
            super.dotRowsBatch(r0, r1, x, nTokens, cols, prepared, out, rows);
            return;
        }
        int blocks = cols / 32;
        // tokens outer: four inputs stay in cache while the tile's rows (a few tens of KB) pass by
        int t = 0;
        for (; t + 4 <= nTokens; t += 4) {
            for (int r = r0; r < r1; r++) {
                long first = (long) r * blocks;
                dotBlocks4(first, blocks, x, t * cols, cols, out, t * rows + r, rows);
            }
        }
        for (; t < nTokens; t++) {
            for (int r = r0; r < r1; r++) {
                long first = (long) r * blocks;
                out[t * rows + r] = dotBlocks(first, blocks, x, t * cols);
            }
        }
    }

    /**
     * {@link #dotBlocks} for four inputs x[x0 + k * cols ..], k < 4, written to out[o + k * stride]:
     * per input exactly the same operations in the same order, so each result equals its own
     * one-input call bit for bit.
     */
    private void dotBlocks4(long firstBlock, int blocks, float[] x, int x0, int cols, float[] out, int o, int stride) {
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (firstBlock + b) * BYTES;
            int xo = b * 32;
            FloatVector blk0 = FloatVector.zero(F);
            FloatVector blk1 = FloatVector.zero(F);
            FloatVector blk2 = FloatVector.zero(F);
            FloatVector blk3 = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, data, base + 2 + j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F, 0);
                blk0 = q.fma(FloatVector.fromArray(F, x, x0 + xo + j), blk0);
                blk1 = q.fma(FloatVector.fromArray(F, x, x1 + xo + j), blk1);
                blk2 = q.fma(FloatVector.fromArray(F, x, x2 + xo + j), blk2);
                blk3 = q.fma(FloatVector.fromArray(F, x, x3 + xo + j), blk3);
            }
            FloatVector d = FloatVector.broadcast(F, Kernels.f16(data, base));
            acc0 = blk0.fma(d, acc0);
            acc1 = blk1.fma(d, acc1);
            acc2 = blk2.fma(d, acc2);
            acc3 = blk3.fma(d, acc3);
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
