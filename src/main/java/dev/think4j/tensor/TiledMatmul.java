package dev.think4j.tensor;

import dev.think4j.kv.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Register-tiled float kernel behind {@link FloatTensor#matmul}: a decoded row tile times many tokens. */
final class TiledMatmul {
    static final int TILE_ROWS = 8;
    private static final VectorSpecies<Float> S = Vectors.FLOAT;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private TiledMatmul() {
    }

    static float[] scratch(int size) {
        float[] buf = SCRATCH.get();
        if (buf.length < size) {
            buf = new float[size];
            SCRATCH.set(buf);
        }
        return buf;
    }

    /** out[t*outStride + rowBase + r] = w[r] . x[t] for r < nRows, t < nTokens. */
    static void multiply(float[] w, int nRows, float[] x, int nTokens, int cols, float[] out, int outStride, int rowBase) {
        int r = 0;
        for (; r + 2 <= nRows; r += 2) {
            int t = 0;
            for (; t + 4 <= nTokens; t += 4) {
                block2x4(w, r * cols, (r + 1) * cols, x, t * cols, cols, out, t * outStride + rowBase + r, outStride);
            }
            for (; t < nTokens; t++) {
                out[t * outStride + rowBase + r] = VectorMath.dot(w, r * cols, x, t * cols, cols);
                out[t * outStride + rowBase + r + 1] = VectorMath.dot(w, (r + 1) * cols, x, t * cols, cols);
            }
        }
        for (; r < nRows; r++) {
            for (int t = 0; t < nTokens; t++) {
                out[t * outStride + rowBase + r] = VectorMath.dot(w, r * cols, x, t * cols, cols);
            }
        }
    }

    private static void block2x4(float[] w, int w0, int w1, float[] x, int x0, int cols, float[] out, int o, int stride) {
        FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S), a03 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S), a13 = FloatVector.zero(S);
        int upper = S.loopBound(cols);
        int i = 0;
        for (; i < upper; i += S.length()) {
            FloatVector v0 = FloatVector.fromArray(S, w, w0 + i);
            FloatVector v1 = FloatVector.fromArray(S, w, w1 + i);
            FloatVector t0 = FloatVector.fromArray(S, x, x0 + i);
            FloatVector t1 = FloatVector.fromArray(S, x, x0 + cols + i);
            FloatVector t2 = FloatVector.fromArray(S, x, x0 + 2 * cols + i);
            FloatVector t3 = FloatVector.fromArray(S, x, x0 + 3 * cols + i);
            a00 = v0.fma(t0, a00);
            a01 = v0.fma(t1, a01);
            a02 = v0.fma(t2, a02);
            a03 = v0.fma(t3, a03);
            a10 = v1.fma(t0, a10);
            a11 = v1.fma(t1, a11);
            a12 = v1.fma(t2, a12);
            a13 = v1.fma(t3, a13);
        }
        float[] s = {VectorMath.sumLanes(a00), VectorMath.sumLanes(a01), VectorMath.sumLanes(a02), VectorMath.sumLanes(a03),
            VectorMath.sumLanes(a10), VectorMath.sumLanes(a11), VectorMath.sumLanes(a12), VectorMath.sumLanes(a13)};
        for (; i < cols; i++) {
            for (int t = 0; t < 4; t++) {
                float xv = x[x0 + t * cols + i];
                s[t] += w[w0 + i] * xv;
                s[4 + t] += w[w1 + i] * xv;
            }
        }
        for (int t = 0; t < 4; t++) {
            out[o + t * stride] = s[t];
            out[o + t * stride + 1] = s[4 + t];
        }
    }
}
