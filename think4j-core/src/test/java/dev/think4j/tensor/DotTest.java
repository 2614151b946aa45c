package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The vector kernels against a double-precision dot of the same tensor's decoded values. */
class DotTest {
    static Iterable<GgmlType> types() {
        return TensorTestSupport.TYPES;
    }

    @ParameterizedTest
    @MethodSource("types")
    void dotMatchesDecodedValuesAtRowOffsets(GgmlType type) {
        int rows = 6;
        int cols = 768;
        float[] w = TensorTestSupport.randomValues(11, rows * cols);
        FloatTensor t = TensorTestSupport.tensor(type, w);
        assertThat(t.type()).isEqualTo(type);
        float[] dec = new float[w.length];
        t.dequantize(0, dec, 0, w.length);
        float[] x = TensorTestSupport.randomValues(12, cols + 5);
        int bs = type.blockSize();
        // Whole rows, partial rows of several block counts, and an x offset; lengths not a multiple of
        // the vector width are only legal where blocks allow it (unit-block types).
        int[] lengths = bs == 1 ? new int[] {1, 7, 13, 31, 100, 767, cols} : new int[] {bs, 2 * bs, 3 * bs, cols};
        for (int r = 0; r < rows; r++) {
            for (int n : lengths) {
                for (int xo : new int[] {0, 5}) {
                    long off = (long) r * cols;
                    double ref = TensorTestSupport.referenceDot(dec, (int) off, x, xo, n);
                    assertThat((double) t.dot(off, x, xo, n)).as("%s row %d n %d xo %d", type, r, n, xo)
                            .isCloseTo(ref, Offset.offset(TensorTestSupport.dotTolerance(dec, (int) off, x, xo, n)));
                }
            }
        }
    }

    /** Block decoding (vectorised for the K-quants, used by prefill) gives getFloat's values bit for bit. */
    @ParameterizedTest
    @MethodSource("types")
    void blockDecodingEqualsElementDecoding(GgmlType type) {
        float[] w = TensorTestSupport.randomValues(31, 4 * 768);
        FloatTensor t = TensorTestSupport.tensor(type, w);
        float[] dec = new float[w.length];
        t.dequantize(0, dec, 0, w.length);
        for (int i = 0; i < w.length; i++) {
            assertThat(Float.floatToRawIntBits(dec[i])).as("%s element %d", type, i)
                    .isEqualTo(Float.floatToRawIntBits(t.getFloat(i)));
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void raggedOffsetsFallBackToScalarEnds(GgmlType type) {
        float[] w = TensorTestSupport.randomValues(21, 1024);
        FloatTensor t = TensorTestSupport.tensor(type, w);
        float[] dec = new float[w.length];
        t.dequantize(0, dec, 0, w.length);
        float[] x = TensorTestSupport.randomValues(22, 1024);
        for (int[] c : new int[][] {{3, 600}, {250, 300}, {0, 1000}, {17, 5}}) {
            double ref = TensorTestSupport.referenceDot(dec, c[0], x, 0, c[1]);
            assertThat((double) t.dot(c[0], x, 0, c[1])).as("%s %d+%d", type, c[0], c[1])
                    .isCloseTo(ref, Offset.offset(TensorTestSupport.dotTolerance(dec, c[0], x, 0, c[1])));
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void matvecAndMatmulAgreeWithDot(GgmlType type) {
        int rows = 37;
        int cols = 512;
        int tokens = 3;
        FloatTensor t = TensorTestSupport.tensor(type, TensorTestSupport.randomValues(31, rows * cols));
        float[] x = TensorTestSupport.randomValues(32, tokens * cols);
        float[] mv = new float[rows];
        t.matvec(x, mv, rows, cols);
        float[] mm = new float[tokens * rows];
        t.matmul(x, mm, tokens, rows, cols);
        for (int tok = 0; tok < tokens; tok++) {
            for (int r = 0; r < rows; r++) {
                float d = t.dot((long) r * cols, x, tok * cols, cols);
                assertThat(mm[tok * rows + r]).isEqualTo(d);
                if (tok == 0) {
                    assertThat(mv[r]).isEqualTo(d);
                }
            }
        }
    }

    /** Guards against silently testing only the scalar fallback on a machine that has wide vectors. */
    @Test
    void kernelsUseTheRequestedVectorWidth() {
        Integer forced = Integer.getInteger("think4j.vector.bits");
        int bits = forced != null ? forced : jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (bits <= jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()) {
            assertThat(Kernels.F.vectorBitSize()).isEqualTo(bits);
            assertThat(Kernels.ENABLED).isEqualTo(bits == 256 || bits == 512);
        }
    }

    /** Half specials through the vector path: subnormals, infinities, NaN and signed zero. */
    @Test
    void f16VectorConversionHandlesSpecialValues() {
        short[] halves = {0x0001, (short) 0x8001, 0x03FF, 0x0400, 0x7BFF, (short) 0xFBFF, 0x7C00, (short) 0xFC00,
                0x7E00, 0x0000, (short) 0x8000, 0x3C00, (short) 0xBC00, 0x3555, 0x1234, (short) 0x9234};
        // One special per tensor among zeros: inf * 0 in the other lanes would turn any sum into NaN.
        for (int lane = 0; lane < halves.length; lane++) {
            MemorySegment seg = MemorySegment.ofArray(new byte[halves.length * 2]);
            seg.set(Kernels.SHORT, 2L * lane, halves[lane]);
            F16Tensor t = new F16Tensor(seg, halves.length);
            float[] x = new float[halves.length];
            java.util.Arrays.fill(x, 1f);
            float expected = Float.float16ToFloat(halves[lane]);
            float got = t.dot(0, x, 0, halves.length);
            if (Float.isNaN(expected)) {
                assertThat(got).as("half 0x%04x", halves[lane]).isNaN();
            } else {
                assertThat(got).as("half 0x%04x", halves[lane]).isEqualTo(expected);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_K", "Q8_1", "I8", "F64"})
    void unsupportedTypesAreRejectedByName(GgmlType type) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatTensor.of(type, MemorySegment.ofArray(new byte[1024]), 256))
                .isInstanceOf(UnsupportedTensorTypeException.class).hasMessageContaining(type.toString());
    }
}
