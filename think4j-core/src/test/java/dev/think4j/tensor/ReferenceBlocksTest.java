package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.gguf.GgmlType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random GGML blocks decoded by gguf-py's reference dequantizer (tools/gen_tensor_reference.py):
 * our decoder, getFloat and dot must agree, which pins every block layout to an independent implementation.
 */
class ReferenceBlocksTest {
    record Case(GgmlType type, byte[] bytes, float[] expected) {
        @Override
        public String toString() {
            return type.toString();
        }
    }

    static Stream<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                ReferenceBlocksTest.class.getResourceAsStream("reference-blocks.txt"), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#")) {
                    continue;
                }
                GgmlType type = GgmlType.valueOf(line.trim());
                byte[] bytes = HexFormat.of().parseHex(r.readLine().trim());
                String[] parts = r.readLine().trim().split(" ");
                float[] expected = new float[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    expected[i] = Float.parseFloat(parts[i]);
                }
                out.add(new Case(type, bytes, expected));
            }
        }
        assertThat(out).hasSize(10);
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void decodesLikeReference(Case c) {
        int n = c.expected.length;
        assertThat(c.type.byteSize(n)).isEqualTo(c.bytes.length);
        FloatTensor t = FloatTensor.of(c.type, MemorySegment.ofArray(c.bytes), n);
        float[] got = new float[n];
        t.dequantize(0, got, 0, n);
        float maxAbs = 0;
        for (float v : c.expected) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        for (int i = 0; i < n; i++) {
            // The reference may order the scale multiplications differently: allow a few ulps of the block range.
            assertThat(got[i]).as("element %d", i).isCloseTo(c.expected[i], org.assertj.core.data.Offset.offset(maxAbs * 1e-6f));
            assertThat(t.getFloat(i)).as("getFloat %d", i).isEqualTo(got[i]);
        }
        // Unaligned partial decode goes through getFloat for ragged ends and must match the block path.
        float[] part = new float[n - 7];
        t.dequantize(3, part, 0, n - 7);
        for (int i = 0; i < part.length; i++) {
            assertThat(part[i]).isEqualTo(got[i + 3]);
        }
        float[] x = TensorTestSupport.randomValues(7, n);
        double ref = TensorTestSupport.referenceDot(c.expected, 0, x, 0, n);
        assertThat((double) t.dot(0, x, 0, n)).isCloseTo(ref,
                org.assertj.core.data.Offset.offset(TensorTestSupport.dotTolerance(c.expected, 0, x, 0, n) + maxAbs * 1e-6 * n));
    }
}
