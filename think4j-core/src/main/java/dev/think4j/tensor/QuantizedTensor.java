package dev.think4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Shared plumbing of the block-quantized types: blocks are decoded whole, and the dot product runs
 * the subclass's vector kernel over whole blocks with scalar code only for ragged ends (an offset or
 * length that does not fall on a block boundary, which matrix rows never do).
 */
abstract class QuantizedTensor extends FloatTensor {
    protected final MemorySegment data;
    protected final int blockSize;
    protected final int blockBytes;

    QuantizedTensor(MemorySegment data, long size) {
        super(size);
        this.data = data;
        this.blockSize = type().blockSize();
        this.blockBytes = type().bytesPerBlock();
        if (size % blockSize != 0) {
            throw new IllegalArgumentException(type() + " tensor size " + size + " is not a multiple of " + blockSize);
        }
        if (data.byteSize() < type().byteSize(size)) {
            throw new IllegalArgumentException(type() + " tensor of " + size + " elements needs "
                    + type().byteSize(size) + " bytes, got " + data.byteSize());
        }
    }

    /**
     * The sum of each {@code width}-element group of x[xOffset, xOffset + n): types whose values are
     * q * scale - offset (Q4_0, the K-quants) multiply raw codes in the kernel and take the offsets
     * off once per group through these sums, computed once per matrix-vector product.
     */
    static float[] groupSums(float[] x, int xOffset, int n, int width) {
        float[] sums = new float[n / width];
        for (int g = 0; g < sums.length; g++) {
            float s = 0f;
            for (int i = xOffset + g * width, end = i + width; i < end; i++) {
                s += x[i];
            }
            sums[g] = s;
        }
        return sums;
    }

    /** Decodes block {@code block} into out[outOffset .. outOffset + blockSize). */
    abstract void decodeBlock(long block, float[] out, int outOffset);

    /** Dot of blocks [firstBlock, firstBlock + blocks) with x[xOffset ..]; only called when {@link Kernels#ENABLED}. */
    abstract float dotBlocks(long firstBlock, int blocks, float[] x, int xOffset);

    /**
     * Dot for any offset and length: whole blocks through the kernel, ragged ends scalar. Subclasses
     * call {@link #dotBlocks} themselves for the aligned case so that each kernel sits behind a
     * monomorphic call: a shared call site seeing several types gets them inlined into one method,
     * where C2 can run out of inlining budget for the Vector API intrinsics and box every vector
     * (measured 10x slower once a second type had been used).
     */
    final float dotRagged(long offset, float[] x, int xOffset, int n) {
        double head = 0;
        int i = 0;
        while (i < n && (offset + i) % blockSize != 0) {
            head += getFloat(offset + i) * x[xOffset + i];
            i++;
        }
        int blocks = (n - i) / blockSize;
        float body = 0f;
        if (blocks > 0) {
            long first = (offset + i) / blockSize;
            body = Kernels.ENABLED ? dotBlocks(first, blocks, x, xOffset + i) : dotDecoded(first, blocks, x, xOffset + i);
            i += blocks * blockSize;
        }
        for (; i < n; i++) {
            head += getFloat(offset + i) * x[xOffset + i];
        }
        return (float) (body + head);
    }

    private float dotDecoded(long firstBlock, int blocks, float[] x, int xOffset) {
        float[] buf = new float[blockSize];
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            decodeBlock(firstBlock + b, buf, 0);
            int xo = xOffset + b * blockSize;
            for (int k = 0; k < blockSize; k++) {
                sum += buf[k] * x[xo + k];
            }
        }
        return sum;
    }

    @Override
    public final void dequantize(long offset, float[] out, int outOffset, int n) {
        int i = 0;
        while (i < n) {
            long e = offset + i;
            if (e % blockSize == 0 && n - i >= blockSize) {
                decodeBlock(e / blockSize, out, outOffset + i);
                i += blockSize;
            } else {
                out[outOffset + i] = getFloat(e);
                i++;
            }
        }
    }
}
