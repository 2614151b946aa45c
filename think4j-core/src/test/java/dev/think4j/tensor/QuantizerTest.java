package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.gguf.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuantizerTest {

    /**
     * Round-trip error per element, as a fraction of the max-abs of the element's own block (for K-quants
     * the super-block), and RMS error as a fraction of the data RMS. Bounds: half a quantization step
     * (plus the clamp of the far extreme for symmetric types, and 6-bit scale rounding for K-quants).
     */
    @ParameterizedTest
    @CsvSource({
        "F32,  0,       0",
        "F16,  0.0005,  0.0005",
        "BF16, 0.004,   0.004",
        "Q8_0, 0.0042,  0.01",
        "Q4_0, 0.126,   0.1",
        "Q4_1, 0.07,    0.08",
        "Q5_0, 0.063,   0.06",
        "Q5_1, 0.035,   0.04",
        "Q4_K, 0.08,    0.08",
        "Q5_K, 0.04,    0.04",
        "Q6_K, 0.03,    0.025",
        "Q2_K, 0.36,    0.26",
        "Q3_K, 0.19,    0.16",
        "IQ4_NL, 0.115, 0.085",
        "IQ4_XS, 0.1,   0.085",
    })
    void roundTripErrorIsBounded(GgmlType type, double maxRelToBlock, double maxRms) {
        float[] v = TensorTestSupport.randomValues(42, 256 * 24);
        byte[] bytes = Quantizer.quantize(type, v);
        assertThat((long) bytes.length).isEqualTo(type.byteSize(v.length));
        float[] back = Quantizer.dequantize(type, bytes, v.length);
        int group = Math.max(type.blockSize(), 32);
        double err2 = 0;
        double sig2 = 0;
        for (int b = 0; b < v.length; b += group) {
            float amax = 0;
            for (int i = b; i < b + group; i++) {
                amax = Math.max(amax, Math.abs(v[i]));
            }
            for (int i = b; i < b + group; i++) {
                double e = Math.abs(back[i] - v[i]);
                assertThat(e).as("%s element %d (%f vs %f)", type, i, back[i], v[i]).isLessThanOrEqualTo(maxRelToBlock * amax);
                err2 += e * e;
                sig2 += (double) v[i] * v[i];
            }
        }
        assertThat(Math.sqrt(err2 / sig2)).as("%s relative RMS error", type).isLessThanOrEqualTo(maxRms);
    }

    /** Quantizing already-quantized values must reproduce them closely: the decoder and encoder agree on layout. */
    @ParameterizedTest
    @CsvSource({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS"})
    void requantizingDecodedValuesIsStable(GgmlType type) {
        float[] once = Quantizer.dequantize(type, Quantizer.quantize(type, TensorTestSupport.randomValues(9, 256 * 8)), 256 * 8);
        float[] twice = Quantizer.dequantize(type, Quantizer.quantize(type, once), once.length);
        double err2 = 0;
        double sig2 = 0;
        for (int i = 0; i < once.length; i++) {
            err2 += (double) (twice[i] - once[i]) * (twice[i] - once[i]);
            sig2 += (double) once[i] * once[i];
        }
        assertThat(Math.sqrt(err2 / sig2)).as("%s", type).isLessThan(0.02);
    }

    @ParameterizedTest
    @CsvSource({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS", "F16", "BF16"})
    void constantAndZeroBlocksSurvive(GgmlType type) {
        float[] zeros = new float[256];
        assertThat(Quantizer.dequantize(type, Quantizer.quantize(type, zeros), 256)).containsOnly(0f);
        float[] ones = new float[256];
        java.util.Arrays.fill(ones, -0.75f);
        for (float f : Quantizer.dequantize(type, Quantizer.quantize(type, ones), 256)) {
            assertThat(f).isCloseTo(-0.75f, org.assertj.core.data.Offset.offset(0.75f * 0.07f));
        }
    }

    @org.junit.jupiter.api.Test
    void bf16RoundsToNearestEvenAndKeepsSpecials() {
        assertThat(Quantizer.toBf16(1f + 0x1p-8f)).isEqualTo(Quantizer.toBf16(1f)); // tie -> even
        assertThat(Quantizer.toBf16(1f + 0x1p-8f + 0x1p-20f)).isEqualTo((short) (Quantizer.toBf16(1f) + 1));
        float[] back = Quantizer.dequantize(GgmlType.BF16, Quantizer.quantize(GgmlType.BF16,
                new float[] {Float.NaN, Float.POSITIVE_INFINITY, -0f}), 3);
        assertThat(back[0]).isNaN();
        assertThat(back[1]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float.floatToRawIntBits(back[2])).isEqualTo(Float.floatToRawIntBits(-0f));
    }

    @org.junit.jupiter.api.Test
    void rejectsPartialBlocksAndUnsupportedTypes() {
        assertThatThrownBy(() -> Quantizer.quantize(GgmlType.Q4_K, new float[100]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256");
        assertThatThrownBy(() -> Quantizer.quantize(GgmlType.Q8_K, new float[256]))
                .isInstanceOf(UnsupportedTensorTypeException.class);
    }
}
