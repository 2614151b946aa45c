package dev.think4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float kernel behind {@link FloatTensor#matmul}: a tile of weight rows, decoded once into a
 * column-major scratch (column i of the tile's rows contiguous), times every token of the chunk.
 * Each step loads two vectors of one column (2L rows) and multiplies them with six tokens'
 * broadcast inputs, twelve accumulators in registers; the accumulators are the outputs for 2L
 * consecutive rows, so they are stored whole, with no horizontal sums. Every output is one
 * multiply-add chain over the columns in order, so results do not depend on tiling or JIT state.
 */
final class TiledMatmul {
    private static final VectorSpecies<Float> S = Vectors.FLOAT;
    private static final int L = S.length();
    /** Rows per tile: two vectors. */
    static final int TILE_ROWS = 2 * L;
    private static final int TOKENS = 6;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private TiledMatmul() {
    }

    /**
     * out[t * outStride + r] = row r of the tile . x[t] for rows [r0, r0 + nRows) of {@code weights}
     * (nRows <= TILE_ROWS) and tokens [0, nTokens).
     */
    static void multiplyTile(FloatTensor weights, int r0, int nRows, float[] x, int nTokens, int cols, float[] out, int outStride) {
        float[][] s = SCRATCH.get();
        if (s[0].length < TILE_ROWS * cols) {
            s[0] = new float[TILE_ROWS * cols];
        }
        if (s[1].length < Math.max(cols, TILE_ROWS * TOKENS)) {
            s[1] = new float[Math.max(cols, TILE_ROWS * TOKENS)];
        }
        float[] wt = s[0];
        float[] row = s[1];
        for (int r = 0; r < TILE_ROWS; r++) {
            if (r < nRows) {
                weights.dequantize((long) (r0 + r) * cols, row, 0, cols);
                for (int i = 0; i < cols; i++) {
                    wt[i * TILE_ROWS + r] = row[i];
                }
            } else {
                for (int i = 0; i < cols; i++) {
                    wt[i * TILE_ROWS + r] = 0f;
                }
            }
        }
        boolean whole = nRows == TILE_ROWS;
        float[] dst = whole ? out : row;
        int t = 0;
        for (; t + TOKENS <= nTokens; t += TOKENS) {
            if (whole) {
                six(wt, x, t, cols, out, t * outStride + r0, outStride);
            } else {
                six(wt, x, t, cols, row, 0, TILE_ROWS);
                copyRows(row, TOKENS, nRows, out, t * outStride + r0, outStride);
            }
        }
        for (; t < nTokens; t++) {
            one(wt, x, t, cols, dst, whole ? t * outStride + r0 : 0);
            if (!whole) {
                copyRows(row, 1, nRows, out, t * outStride + r0, outStride);
            }
        }
    }

    private static void copyRows(float[] src, int tokens, int nRows, float[] out, int o, int outStride) {
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(src, t * TILE_ROWS, out, o + t * outStride, nRows);
        }
    }

    private static void six(float[] wt, float[] x, int t0, int cols, float[] out, int o, int stride) {
        FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S), b1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), b2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        FloatVector a4 = FloatVector.zero(S), b4 = FloatVector.zero(S);
        FloatVector a5 = FloatVector.zero(S), b5 = FloatVector.zero(S);
        int x0 = t0 * cols;
        for (int i = 0; i < cols; i++) {
            FloatVector w0 = FloatVector.fromArray(S, wt, i * TILE_ROWS);
            FloatVector w1 = FloatVector.fromArray(S, wt, i * TILE_ROWS + L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + i]);
            a0 = w0.fma(v, a0);
            b0 = w1.fma(v, b0);
            v = FloatVector.broadcast(S, x[x0 + cols + i]);
            a1 = w0.fma(v, a1);
            b1 = w1.fma(v, b1);
            v = FloatVector.broadcast(S, x[x0 + 2 * cols + i]);
            a2 = w0.fma(v, a2);
            b2 = w1.fma(v, b2);
            v = FloatVector.broadcast(S, x[x0 + 3 * cols + i]);
            a3 = w0.fma(v, a3);
            b3 = w1.fma(v, b3);
            v = FloatVector.broadcast(S, x[x0 + 4 * cols + i]);
            a4 = w0.fma(v, a4);
            b4 = w1.fma(v, b4);
            v = FloatVector.broadcast(S, x[x0 + 5 * cols + i]);
            a5 = w0.fma(v, a5);
            b5 = w1.fma(v, b5);
        }
        a0.intoArray(out, o);
        b0.intoArray(out, o + L);
        a1.intoArray(out, o + stride);
        b1.intoArray(out, o + stride + L);
        a2.intoArray(out, o + 2 * stride);
        b2.intoArray(out, o + 2 * stride + L);
        a3.intoArray(out, o + 3 * stride);
        b3.intoArray(out, o + 3 * stride + L);
        a4.intoArray(out, o + 4 * stride);
        b4.intoArray(out, o + 4 * stride + L);
        a5.intoArray(out, o + 5 * stride);
        b5.intoArray(out, o + 5 * stride + L);
    }

    private static void one(float[] wt, float[] x, int t, int cols, float[] out, int o) {
        FloatVector a = FloatVector.zero(S);
        FloatVector b = FloatVector.zero(S);
        int x0 = t * cols;
        for (int i = 0; i < cols; i++) {
            FloatVector v = FloatVector.broadcast(S, x[x0 + i]);
            a = FloatVector.fromArray(S, wt, i * TILE_ROWS).fma(v, a);
            b = FloatVector.fromArray(S, wt, i * TILE_ROWS + L).fma(v, b);
        }
        a.intoArray(out, o);
        b.intoArray(out, o + L);
    }
}
