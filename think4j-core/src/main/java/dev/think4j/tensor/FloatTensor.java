package dev.think4j.tensor;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * A read-only tensor of one GGML type, viewed as a flat sequence of floats. Each type is one final
 * subclass owning its dot product (the hot loop of matrix-vector work); adding a weight type touches
 * only its class and {@link #of}.
 */
public abstract class FloatTensor {
    protected final long size;

    protected FloatTensor(long size) {
        this.size = size;
    }

    public final long size() {
        return size;
    }

    public abstract GgmlType type();

    public abstract float getFloat(long index);

    /** Sum over i in [0, n) of this[offset + i] * x[xOffset + i]; offset is block-aligned for block types. */
    public abstract float dot(long offset, float[] x, int xOffset, int n);

    /** Writes this[offset .. offset+n) into out[outOffset ..]; subclasses decode whole blocks faster. */
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }

    /** Bytes this tensor occupies in its storage type. */
    public long byteSize() {
        return type().byteSize(size);
    }

    /**
     * Work on the input vector that every row's dot product can share (Q4_0 uses the sum of each
     * 32-block of x); null when a type needs none. Computed once per matrix-vector product.
     */
    protected float[] prepare(float[] x, int xOffset, int n) {
        return null;
    }

    /** {@link #dot} given what {@link #prepare} returned for the same x, offset and length. */
    protected float dotPrepared(long offset, float[] x, int xOffset, int n, float[] prepared) {
        return dot(offset, x, xOffset, n);
    }

    /** Rows per task of {@link #matvec}: a kernel's per-call scratch is allocated once per task. */
    private static final int ROW_BLOCK = 16;

    /** out[r] = row r . x for a row-major [rows x cols] matrix, blocks of rows split over the pool. */
    public void matvec(float[] x, float[] out, int rows, int cols) {
        float[] prepared = prepare(x, 0, cols);
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        Parallel.forRange(blocks, (long) rows * cols,
                b -> dotRows(b * ROW_BLOCK, Math.min(rows, b * ROW_BLOCK + ROW_BLOCK), x, cols, prepared, out));
    }

    /**
     * out[r] = row r . x for r in [r0, r1), each exactly {@link #dotPrepared}; types whose kernel
     * needs scratch memory override it to allocate that once for the rows, not once per row.
     */
    protected void dotRows(int r0, int r1, float[] x, int cols, float[] prepared, float[] out) {
        for (int r = r0; r < r1; r++) {
            out[r] = dotPrepared((long) r * cols, x, 0, cols, prepared);
        }
    }

    /**
     * Batched product, bit-identical to {@link #matvec} for every token: each output is one call of
     * this type's own dot kernel. Continuous batching uses it so a sequence's result never depends on
     * what it was batched with.
     */
    public void matmulRowwise(float[] x, float[] out, int nTokens, int rows, int cols) {
        if (nTokens == 1) {
            matvec(x, out, rows, cols);
            return;
        }
        int tile = 16;
        int tiles = (rows + tile - 1) / tile;
        float[][] prepared = new float[nTokens][];
        for (int t = 0; t < nTokens; t++) {
            prepared[t] = prepare(x, t * cols, cols);
        }
        Parallel.forRange(tiles, (long) rows * cols * nTokens, ti -> {
            int r1 = Math.min(rows, ti * tile + tile);
            for (int t = 0; t < nTokens; t++) {
                for (int r = ti * tile; r < r1; r++) {
                    out[t * rows + r] = dotPrepared((long) r * cols, x, t * cols, cols, prepared[t]);
                }
            }
        });
    }

    /**
     * Batched product for prefill: out[t*rows + r] = row r . x[t*cols ..] for t in [0, nTokens).
     * Each worker decodes a tile of rows once and multiplies it with every token (see
     * {@link TiledMatmul}). Rounding differs slightly from {@link #matvec} (a different summation
     * order), which is why batching uses {@link #matmulRowwise}.
     */
    public void matmul(float[] x, float[] out, int nTokens, int rows, int cols) {
        if (nTokens < 4) {
            matmulRowwise(x, out, nTokens, rows, cols);
            return;
        }
        int tile = TiledMatmul.TILE_ROWS;
        int tiles = (rows + tile - 1) / tile;
        Parallel.forRange(tiles, (long) rows * cols * nTokens, ti -> {
            int r0 = ti * tile;
            TiledMatmul.multiplyTile(this, r0, Math.min(tile, rows - r0), x, nTokens, cols, out, rows);
        });
    }

    /** Wraps raw GGUF tensor bytes as the tensor class of their type. */
    public static FloatTensor of(GgmlType type, MemorySegment data, long elements) {
        return switch (type) {
            case F32 -> new F32Tensor(data, elements);
            case F16 -> new F16Tensor(data, elements);
            case BF16 -> new BF16Tensor(data, elements);
            case Q8_0 -> new Q8_0Tensor(data, elements);
            case Q4_0 -> new Q4_0Tensor(data, elements);
            case Q4_1 -> new Q4_1Tensor(data, elements);
            case Q5_0 -> new Q5_0Tensor(data, elements);
            case Q5_1 -> new Q5_1Tensor(data, elements);
            case Q4_K -> new Q4_KTensor(data, elements);
            case Q5_K -> new Q5_KTensor(data, elements);
            case Q6_K -> new Q6_KTensor(data, elements);
            case Q2_K -> new Q2_KTensor(data, elements);
            case Q3_K -> new Q3_KTensor(data, elements);
            case IQ4_NL -> new IQ4_NLTensor(data, elements);
            case IQ4_XS -> new IQ4_XSTensor(data, elements);
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }
}
