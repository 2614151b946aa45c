package dev.think4j.tensor;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

/** Shared helpers: random data, heap tensors and a double-precision reference dot. */
final class TensorTestSupport {
    static final List<GgmlType> TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS);

    private TensorTestSupport() {
    }

    /** Gaussian values with a per-256 scale and offset, so blocks differ in range and sign balance. */
    static float[] randomValues(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int b = 0; b < n; b += 256) {
            float scale = 0.01f + r.nextFloat() * 2f;
            float shift = (r.nextFloat() - 0.5f) * scale;
            for (int i = b; i < Math.min(n, b + 256); i++) {
                v[i] = (float) r.nextGaussian() * scale + shift;
            }
        }
        return v;
    }

    static FloatTensor tensor(GgmlType type, float[] values) {
        return FloatTensor.of(type, MemorySegment.ofArray(Quantizer.quantize(type, values)), values.length);
    }

    static double referenceDot(float[] w, int wOffset, float[] x, int xOffset, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) w[wOffset + i] * x[xOffset + i];
        }
        return s;
    }

    /** Float rounding bound for a dot: scales with sum |w x|, not with the (possibly cancelling) result. */
    static double dotTolerance(float[] w, int wOffset, float[] x, int xOffset, int n) {
        double s = 0;
        double maxW = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs((double) w[wOffset + i] * x[xOffset + i]);
            maxW = Math.max(maxW, Math.abs(w[wOffset + i]));
        }
        double sumX = 0;
        for (int i = 0; i < n; i++) {
            sumX += Math.abs(x[xOffset + i]);
        }
        // Kernels for *_1 and K types split q*d + m into two sums, so allow for the min term too.
        return 2e-6 * (s + maxW * sumX) + 1e-30;
    }
}
