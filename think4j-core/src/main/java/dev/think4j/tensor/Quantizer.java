package dev.think4j.tensor;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Encodes floats as GGML blocks (for the GGUF writer, synthetic models and tests) and decodes them back.
 * Scale choice follows the reference ideas (max-abs for the symmetric types, min/max for the *_1 types,
 * a small least-squares refinement per sub-block for K-quants) without chasing llama.cpp's exact bytes.
 */
public final class Quantizer {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private Quantizer() {
    }

    /** GGML bytes of {@code values}; values.length must be a multiple of the type's block size. */
    public static byte[] quantize(GgmlType type, float[] values) {
        int bs = type.blockSize();
        if (values.length % bs != 0) {
            throw new IllegalArgumentException(type + " needs a multiple of " + bs + " values, got " + values.length);
        }
        byte[] out = new byte[Math.toIntExact(type.byteSize(values.length))];
        MemorySegment seg = MemorySegment.ofArray(out);
        int blocks = values.length / bs;
        for (int b = 0; b < blocks; b++) {
            long o = (long) b * type.bytesPerBlock();
            int v = b * bs;
            switch (type) {
                case F32 -> seg.set(FLOAT, o, values[v]);
                case F16 -> seg.set(SHORT, o, Float.floatToFloat16(values[v]));
                case BF16 -> seg.set(SHORT, o, toBf16(values[v]));
                case Q8_0 -> q8_0(values, v, seg, o);
                case Q4_0 -> qSymmetric(values, v, seg, o, 4);
                case Q5_0 -> qSymmetric(values, v, seg, o, 5);
                case Q4_1 -> qAffine(values, v, seg, o, 4);
                case Q5_1 -> qAffine(values, v, seg, o, 5);
                case Q4_K -> qK(values, v, seg, o, 4);
                case Q5_K -> qK(values, v, seg, o, 5);
                case Q6_K -> q6_K(values, v, seg, o);
                case Q2_K -> q2_K(values, v, seg, o);
                case Q3_K -> q3_K(values, v, seg, o);
                case IQ4_NL -> iq4_nl(values, v, seg, o);
                case IQ4_XS -> iq4_xs(values, v, seg, o);
                default -> throw new UnsupportedTensorTypeException(type);
            }
        }
        return out;
    }

    /** Decodes {@code elements} values of GGML bytes through the tensor class of the type. */
    public static float[] dequantize(GgmlType type, byte[] data, int elements) {
        float[] out = new float[elements];
        FloatTensor.of(type, MemorySegment.ofArray(data), elements).dequantize(0, out, 0, elements);
        return out;
    }

    /** Round-to-nearest-even truncation to bfloat16, keeping NaN a NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The nearest F16 value, as a float (scales stored as F16 round exactly like this). */
    public static float halfRound(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    private static int clamp(long v, int lo, int hi) {
        return (int) Math.max(lo, Math.min(hi, v));
    }

    private static void q8_0(float[] x, int v, MemorySegment seg, long o) {
        float amax = 0f;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[v + i]));
        }
        // Quantize against the stored (fp16-rounded) scale so the decoder sees the scale we used.
        float d = halfRound(amax / 127f);
        seg.set(SHORT, o, Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) {
            int q = d == 0f ? 0 : clamp(Math.round(x[v + i] / d), -128, 127);
            seg.set(BYTE, o + 2 + i, (byte) q);
        }
    }

    /** Q4_0 / Q5_0: the extreme value maps to -2^(bits-1) exactly, as in ggml, using the full range on that side. */
    private static void qSymmetric(float[] x, int v, MemorySegment seg, long o, int bits) {
        int half = 1 << (bits - 1);
        float max = 0f;
        for (int i = 0; i < 32; i++) {
            if (Math.abs(x[v + i]) > Math.abs(max)) {
                max = x[v + i];
            }
        }
        float d = max == 0f ? 0f : halfRound(max / -half); // avoid -0 scales decoding zeros as -0
        seg.set(SHORT, o, Float.floatToFloat16(d));
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) {
            q[i] = d == 0f ? half : clamp(Math.round(x[v + i] / d) + half, 0, 2 * half - 1);
        }
        packNibbles(q, seg, bits == 4 ? o + 2 : o + 6, bits == 5 ? o + 2 : -1);
    }

    /** Q4_1 / Q5_1: value = q*d + m spanning [min, max] of the block. */
    private static void qAffine(float[] x, int v, MemorySegment seg, long o, int bits) {
        int qmax = (1 << bits) - 1;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < 32; i++) {
            min = Math.min(min, x[v + i]);
            max = Math.max(max, x[v + i]);
        }
        float d = halfRound((max - min) / qmax);
        float m = halfRound(min);
        seg.set(SHORT, o, Float.floatToFloat16(d));
        seg.set(SHORT, o + 2, Float.floatToFloat16(m));
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) {
            q[i] = d == 0f ? 0 : clamp(Math.round((x[v + i] - m) / d), 0, qmax);
        }
        packNibbles(q, seg, bits == 4 ? o + 4 : o + 8, bits == 5 ? o + 4 : -1);
    }

    /** Low nibbles hold elements 0..15, high nibbles 16..31; bit 4 of element i goes to bit i of qh. */
    private static void packNibbles(int[] q, MemorySegment seg, long qs, long qh) {
        int high = 0;
        for (int j = 0; j < 16; j++) {
            seg.set(BYTE, qs + j, (byte) ((q[j] & 0xF) | (q[j + 16] & 0xF) << 4));
            high |= ((q[j] >> 4) & 1) << j | ((q[j + 16] >> 4) & 1) << (j + 16);
        }
        if (qh >= 0) {
            seg.set(INT, qh, high);
        }
    }

    /**
     * Fits x ~ s*q - m with q in [0, qmax] and m >= 0 for one sub-block: start from the min/max
     * range, then alternate rounding and a least-squares refit, keeping the lowest squared error.
     * Returns {s, m}.
     */
    static float[] fitScaleMin(float[] x, int v, int n, int qmax) {
        float lo = 0f;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            lo = Math.min(lo, x[v + i]);
            hi = Math.max(hi, x[v + i]);
        }
        if (hi <= lo) {
            return new float[] {0f, -lo};
        }
        float s = (hi - lo) / qmax;
        float m = -lo;
        float bestS = s;
        float bestM = m;
        double bestErr = Double.MAX_VALUE;
        for (int iter = 0; iter < 5; iter++) {
            double err = 0;
            double sq = 0, sqq = 0, sx = 0, sqx = 0;
            for (int i = 0; i < n; i++) {
                int q = clamp(Math.round((x[v + i] + m) / s), 0, qmax);
                double diff = s * q - m - x[v + i];
                err += diff * diff;
                sq += q;
                sqq += (double) q * q;
                sx += x[v + i];
                sqx += q * (double) x[v + i];
            }
            if (err < bestErr) {
                bestErr = err;
                bestS = s;
                bestM = m;
            }
            double det = n * sqq - sq * sq;
            if (det <= 0) {
                break;
            }
            double ns = (n * sqx - sq * sx) / det;
            double nm = -(sx - ns * sq) / n;
            if (nm < 0) {
                nm = 0;
                ns = sqx / sqq;
            }
            if (!(ns > 0)) {
                break;
            }
            s = (float) ns;
            m = (float) nm;
        }
        return new float[] {bestS, bestM};
    }

    /** Q4_K / Q5_K super-block: eight sub-blocks of 32 with 6-bit scales and mins relative to d and dmin. */
    private static void qK(float[] x, int v, MemorySegment seg, long o, int bits) {
        int qmax = (1 << bits) - 1;
        float[] scales = new float[8];
        float[] mins = new float[8];
        float maxScale = 0f;
        float maxMin = 0f;
        for (int j = 0; j < 8; j++) {
            float[] sm = fitScaleMin(x, v + 32 * j, 32, qmax);
            scales[j] = sm[0];
            mins[j] = sm[1];
            maxScale = Math.max(maxScale, sm[0]);
            maxMin = Math.max(maxMin, sm[1]);
        }
        float d = halfRound(maxScale / 63f);
        float dmin = halfRound(maxMin / 63f);
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = d == 0f ? 0 : clamp(Math.round(scales[j] / d), 0, 63);
            mn[j] = dmin == 0f ? 0 : clamp(Math.round(mins[j] / dmin), 0, 63);
        }
        seg.set(SHORT, o, Float.floatToFloat16(d));
        seg.set(SHORT, o + 2, Float.floatToFloat16(dmin));
        // Inverse of get_scale_min_k4: sub-blocks 0..3 use the low 6 bits of bytes 0..7; 4..7 split
        // their low nibbles into bytes 8..11 and their top 2 bits into the spare bits of bytes 0..7.
        for (int j = 0; j < 4; j++) {
            seg.set(BYTE, o + 4 + j, (byte) (sc[j] | (sc[j + 4] >> 4) << 6));
            seg.set(BYTE, o + 4 + j + 4, (byte) (mn[j] | (mn[j + 4] >> 4) << 6));
            seg.set(BYTE, o + 4 + j + 8, (byte) ((sc[j + 4] & 0xF) | (mn[j + 4] & 0xF) << 4));
        }
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            float s = d * sc[j];
            float m = dmin * mn[j];
            for (int i = 0; i < 32; i++) {
                q[32 * j + i] = s == 0f ? 0 : clamp(Math.round((x[v + 32 * j + i] + m) / s), 0, qmax);
            }
        }
        long qs = bits == 4 ? o + 16 : o + 48;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l];
                int hi = q[64 * c + 32 + l];
                seg.set(BYTE, qs + 32 * c + l, (byte) ((lo & 0xF) | (hi & 0xF) << 4));
                if (bits == 5) {
                    long qh = o + 16 + l;
                    int bitsSet = seg.get(BYTE, qh) | (lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1);
                    seg.set(BYTE, qh, (byte) bitsSet);
                }
            }
        }
    }

    /** Q6_K super-block: sixteen sub-blocks of 16 with signed 8-bit scales relative to d. */
    private static void q6_K(float[] x, int v, MemorySegment seg, long o) {
        float[] scales = new float[16];
        float maxAbsScale = 0f;
        for (int j = 0; j < 16; j++) {
            float max = 0f;
            for (int i = 0; i < 16; i++) {
                if (Math.abs(x[v + 16 * j + i]) > Math.abs(max)) {
                    max = x[v + 16 * j + i];
                }
            }
            scales[j] = max / -32f;
            maxAbsScale = Math.max(maxAbsScale, Math.abs(scales[j]));
        }
        float d = halfRound(maxAbsScale / 127f);
        seg.set(SHORT, o + 208, Float.floatToFloat16(d));
        int[] q = new int[256];
        for (int j = 0; j < 16; j++) {
            int sc = d == 0f ? 0 : clamp(Math.round(scales[j] / d), -128, 127);
            seg.set(BYTE, o + 192 + j, (byte) sc);
            float s = d * sc;
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = s == 0f ? 32 : clamp(Math.round(x[v + 16 * j + i] / s) + 32, 0, 63);
            }
        }
        for (int half = 0; half < 2; half++) {
            long ql = o + 64 * half;
            long qh = o + 128 + 32 * half;
            int e = 128 * half;
            for (int l = 0; l < 32; l++) {
                int q1 = q[e + l];
                int q2 = q[e + l + 32];
                int q3 = q[e + l + 64];
                int q4 = q[e + l + 96];
                seg.set(BYTE, ql + l, (byte) ((q1 & 0xF) | (q3 & 0xF) << 4));
                seg.set(BYTE, ql + l + 32, (byte) ((q2 & 0xF) | (q4 & 0xF) << 4));
                seg.set(BYTE, qh + l, (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
            }
        }
    }

    /** The 2-bit field of element e (0..255) in the Q2_K / Q3_K qs layout: byte 32*(e/128) + e%32, bit 2*((e%128)/32). */
    private static void pack2Bits(int[] q, MemorySegment seg, long qs) {
        for (int e = 0; e < 256; e++) {
            long at = qs + 32 * (e / 128) + e % 32;
            seg.set(BYTE, at, (byte) (seg.get(BYTE, at) | (q[e] & 3) << (2 * ((e % 128) / 32))));
        }
    }

    /** Q2_K super-block: sixteen sub-blocks of 16 as s*q - m with q in 0..3 and 4-bit s, m relative to d, dmin. */
    private static void q2_K(float[] x, int v, MemorySegment seg, long o) {
        float[] scales = new float[16];
        float[] mins = new float[16];
        float maxScale = 0f;
        float maxMin = 0f;
        for (int j = 0; j < 16; j++) {
            float[] sm = fitScaleMin(x, v + 16 * j, 16, 3);
            scales[j] = sm[0];
            mins[j] = sm[1];
            maxScale = Math.max(maxScale, sm[0]);
            maxMin = Math.max(maxMin, sm[1]);
        }
        float d = halfRound(maxScale / 15f);
        float dmin = halfRound(maxMin / 15f);
        seg.set(SHORT, o + 80, Float.floatToFloat16(d));
        seg.set(SHORT, o + 82, Float.floatToFloat16(dmin));
        int[] q = new int[256];
        for (int j = 0; j < 16; j++) {
            int sc = d == 0f ? 0 : clamp(Math.round(scales[j] / d), 0, 15);
            int mn = dmin == 0f ? 0 : clamp(Math.round(mins[j] / dmin), 0, 15);
            seg.set(BYTE, o + j, (byte) (sc | mn << 4));
            float s = d * sc;
            float m = dmin * mn;
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = s == 0f ? 0 : clamp(Math.round((x[v + 16 * j + i] + m) / s), 0, 3);
            }
        }
        pack2Bits(q, seg, o + 16);
    }

    /** Q3_K super-block: sixteen sub-blocks of 16 with q in -4..3 and signed 6-bit scales relative to d. */
    private static void q3_K(float[] x, int v, MemorySegment seg, long o) {
        float[] scales = new float[16];
        float maxScale = 0f;
        for (int j = 0; j < 16; j++) {
            float max = 0f;
            for (int i = 0; i < 16; i++) {
                if (Math.abs(x[v + 16 * j + i]) > Math.abs(max)) {
                    max = x[v + 16 * j + i];
                }
            }
            // Like Q4_0: the extreme maps to -4, using the longer side of the signed range.
            scales[j] = max / -4f;
            if (Math.abs(scales[j]) > Math.abs(maxScale)) {
                maxScale = scales[j];
            }
        }
        float d = maxScale == 0f ? 0f : halfRound(maxScale / -32f);
        seg.set(SHORT, o + 108, Float.floatToFloat16(d));
        int[] q = new int[256];
        for (int j = 0; j < 16; j++) {
            int sc = d == 0f ? 0 : clamp(Math.round(scales[j] / d), -32, 31);
            int biased = sc + 32;
            long low = o + 96 + (j & 7);
            seg.set(BYTE, low, (byte) (seg.get(BYTE, low) | (biased & 0xF) << (j < 8 ? 0 : 4)));
            long high = o + 96 + 8 + (j & 3);
            seg.set(BYTE, high, (byte) (seg.get(BYTE, high) | (biased >> 4) << (2 * (j >> 2))));
            float s = d * sc;
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = s == 0f ? 4 : clamp(Math.round(x[v + 16 * j + i] / s) + 4, 0, 7);
            }
        }
        // High bit of element 128h + 32j + l goes to bit 4h + j of hmask[l].
        for (int e = 0; e < 256; e++) {
            long at = o + e % 32;
            seg.set(BYTE, at, (byte) (seg.get(BYTE, at) | (q[e] >> 2) << (4 * (e / 128) + (e % 128) / 32)));
        }
        pack2Bits(q, seg, o + 32);
    }

    /** Codebook index nearest to t (the codebook is sorted). */
    private static int nearestIq4(float t) {
        byte[] kv = IQ4_NLTensor.KVALUES;
        int best = 0;
        for (int i = 1; i < 16; i++) {
            if (Math.abs(kv[i] - t) < Math.abs(kv[best] - t)) {
                best = i;
            }
        }
        return best;
    }

    /** Scale putting a block's extreme on the codebook's extreme (-127), as ggml starts its search. */
    private static float iq4Scale(float[] x, int v) {
        float max = 0f;
        for (int i = 0; i < 32; i++) {
            if (Math.abs(x[v + i]) > Math.abs(max)) {
                max = x[v + i];
            }
        }
        return max / -127f;
    }

    /** 32 codebook nibbles for x[v ..] at scale d, Q4_0 nibble order. */
    private static void iq4Nibbles(float[] x, int v, float d, MemorySegment seg, long qs) {
        for (int j = 0; j < 16; j++) {
            int lo = d == 0f ? 8 : nearestIq4(x[v + j] / d);
            int hi = d == 0f ? 8 : nearestIq4(x[v + j + 16] / d);
            seg.set(BYTE, qs + j, (byte) (lo | hi << 4));
        }
    }

    private static void iq4_nl(float[] x, int v, MemorySegment seg, long o) {
        float d = halfRound(iq4Scale(x, v));
        if (d == 0f) {
            d = 0f; // no -0 scales
        }
        seg.set(SHORT, o, Float.floatToFloat16(d));
        iq4Nibbles(x, v, d, seg, o + 2);
    }

    /** IQ4_XS super-block: eight IQ4_NL bodies with signed 6-bit scales relative to d. */
    private static void iq4_xs(float[] x, int v, MemorySegment seg, long o) {
        float[] scales = new float[8];
        float maxScale = 0f;
        for (int s = 0; s < 8; s++) {
            scales[s] = iq4Scale(x, v + 32 * s);
            if (Math.abs(scales[s]) > Math.abs(maxScale)) {
                maxScale = scales[s];
            }
        }
        float d = maxScale == 0f ? 0f : halfRound(maxScale / -32f);
        seg.set(SHORT, o, Float.floatToFloat16(d));
        int high = 0;
        for (int s = 0; s < 8; s++) {
            int ls = (d == 0f ? 0 : clamp(Math.round(scales[s] / d), -32, 31)) + 32;
            long low = o + 4 + s / 2;
            seg.set(BYTE, low, (byte) (seg.get(BYTE, low) | (ls & 0xF) << (4 * (s % 2))));
            high |= (ls >> 4) << (2 * s);
            iq4Nibbles(x, v + 32 * s, d * (ls - 32), seg, o + 8 + 16 * s);
        }
        seg.set(SHORT, o + 2, (short) high);
    }
}
