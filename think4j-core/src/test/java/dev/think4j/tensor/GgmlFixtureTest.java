package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.gguf.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Blocks written by llama.cpp's own quantizer (plus random payload blocks) and ggml's own
 * dequantize_row_* output for them (tools/ggml_dequant_fixture.sh): our decoding must reproduce
 * ggml's floats bit for bit, and the vector dot must match a double-precision dot of those floats.
 */
class GgmlFixtureTest {
    record Fixture(GgmlType type, byte[] bytes, float[] expected) {
    }

    static Fixture load(GgmlType type) throws IOException {
        byte[] all;
        try (InputStream in = GgmlFixtureTest.class.getResourceAsStream("ggml-" + type + ".bin")) {
            assertThat(in).as("fixture for %s", type).isNotNull();
            all = in.readAllBytes();
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        b.get(magic);
        assertThat(new String(magic, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("T4JQ");
        assertThat(b.getInt()).isEqualTo(type.id());
        int n = b.getInt();
        byte[] bytes = new byte[b.getInt()];
        b.get(bytes);
        float[] expected = new float[n];
        b.asFloatBuffer().get(expected);
        assertThat(type.byteSize(n)).isEqualTo(bytes.length);
        return new Fixture(type, bytes, expected);
    }

    /** Native like a mapped model file, at an odd address so no kernel relies on alignment. */
    private static FloatTensor tensor(Fixture f) {
        MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(f.bytes.length + 1, 64).asSlice(1);
        MemorySegment.copy(f.bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, f.bytes.length);
        return FloatTensor.of(f.type, seg, f.expected.length);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS"})
    void decodesBitForBitLikeGgml(GgmlType type) throws IOException {
        Fixture f = load(type);
        FloatTensor t = tensor(f);
        int n = f.expected.length;
        float[] got = new float[n];
        t.dequantize(0, got, 0, n);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s decodeBlock element %d: %s vs ggml %s", type, i, got[i], f.expected[i])
                    .isEqualTo(Float.floatToRawIntBits(f.expected[i]));
            assertThat(Float.floatToRawIntBits(t.getFloat(i))).as("%s getFloat element %d", type, i)
                    .isEqualTo(Float.floatToRawIntBits(f.expected[i]));
        }
        // A ragged start and end mix the getFloat path with whole blocks.
        float[] part = new float[n - 40];
        t.dequantize(13, part, 0, part.length);
        assertThat(part).isEqualTo(Arrays.copyOfRange(f.expected, 13, n - 27));
        // The fixture must not be degenerate: it spans zeros, both signs and a wide magnitude range.
        assertThat(f.expected).contains(0f);
        float max = 0;
        float minPositive = Float.MAX_VALUE;
        for (float v : f.expected) {
            max = Math.max(max, Math.abs(v));
            if (v != 0) {
                minPositive = Math.min(minPositive, Math.abs(v));
            }
        }
        assertThat(max / minPositive).isGreaterThan(1e6f);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS"})
    void dotMatchesDoublePrecisionDotOfGgmlValues(GgmlType type) throws IOException {
        Fixture f = load(type);
        FloatTensor t = tensor(f);
        int n = f.expected.length;
        float[] x = TensorTestSupport.randomValues(5, n + 9);
        int bs = type.blockSize();
        int[][] cases = {
            {0, n, 0}, {0, n, 9}, {256, 512, 3}, {n - 256, 256, 0}, {1024, 512, 1},  // aligned, incl. random-payload blocks
            {0, bs, 0}, {bs, 2 * bs, 4},                                               // single blocks
            {3, 600, 0}, {250, 300, 2}, {17, 5, 0}, {1, n - 2, 7}, {255, 258, 0},     // ragged
        };
        for (int[] c : cases) {
            int off = c[0];
            int len = c[1];
            int xo = c[2];
            double ref = TensorTestSupport.referenceDot(f.expected, off, x, xo, len);
            double tol = TensorTestSupport.dotTolerance(f.expected, off, x, xo, len);
            assertThat((double) t.dot(off, x, xo, len)).as("%s dot %d+%d xo %d", type, off, len, xo)
                    .isCloseTo(ref, Offset.offset(tol));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS"})
    void matvecAndPrefillMatmulUseTheSameWeights(GgmlType type) throws IOException {
        Fixture f = load(type);
        FloatTensor t = tensor(f);
        int cols = 256;
        int rows = f.expected.length / cols;
        int tokens = 7;
        float[] x = TensorTestSupport.randomValues(6, tokens * cols);
        float[] mv = new float[rows];
        t.matvec(x, mv, rows, cols);
        float[] mm = new float[tokens * rows];
        t.matmul(x, mm, tokens, rows, cols);
        for (int tok = 0; tok < tokens; tok++) {
            for (int r = 0; r < rows; r++) {
                double ref = TensorTestSupport.referenceDot(f.expected, r * cols, x, tok * cols, cols);
                double tol = TensorTestSupport.dotTolerance(f.expected, r * cols, x, tok * cols, cols);
                assertThat((double) mm[tok * rows + r]).as("%s matmul token %d row %d", type, tok, r).isCloseTo(ref, Offset.offset(tol));
                if (tok == 0) {
                    assertThat(mv[r]).isEqualTo(t.dot((long) r * cols, x, 0, cols));
                    assertThat((double) mv[r]).isCloseTo(ref, Offset.offset(tol));
                }
            }
        }
    }
}
