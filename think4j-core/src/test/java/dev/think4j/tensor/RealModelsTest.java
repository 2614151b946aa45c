package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.gguf.GgmlType;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Decoding tensors of real GGUF files straight from the mapped file. */
class RealModelsTest {

    static float[] decode(GgufFile f, GgufTensorInfo info) {
        FloatTensor t = FloatTensor.of(info.type(), f.tensorData(info), info.elementCount());
        float[] out = new float[Math.toIntExact(info.elementCount())];
        t.dequantize(0, out, 0, out.length);
        return out;
    }

    /**
     * Quantized copies of stories260K must match the F32 original tensor by tensor. Per-element bound:
     * a fraction of the block's max-abs for block types, of the value itself for the float types.
     */
    @ParameterizedTest
    @CsvSource({
        "stories260K-q8_0.gguf, Q8_0, 0.0045",
        "stories260K-q4_0.gguf, Q4_0, 0.126",
        "stories260K-f16.gguf,  F16,  0.0005",
        "stories260K-bf16.gguf, BF16, 0.0040",
    })
    void quantizedCopiesMatchF32Original(String file, GgmlType mainType, double bound) {
        Path original = SharedFixtures.require("models/stories260K.gguf");
        Path copy = SharedFixtures.require("models/" + file);
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        try (GgufFile f32 = GgufFile.open(original); GgufFile q = GgufFile.open(copy)) {
            assertThat(q.tensors().keySet()).isEqualTo(f32.tensors().keySet());
            for (GgufTensorInfo info : q.tensorList()) {
                GgufTensorInfo ref = f32.tensor(info.name());
                assertThat(ref.type()).isEqualTo(GgmlType.F32);
                assertThat(info.shape()).isEqualTo(ref.shape());
                seen.add(info.type());
                float[] want = decode(f32, ref);
                float[] got = decode(q, info);
                double tol = info.type() == mainType ? bound : info.type() == GgmlType.F16 ? 0.0005 : 0;
                int bs = info.type().blockSize();
                for (int b = 0; b < want.length; b += bs) {
                    float amax = 0;
                    for (int i = b; i < b + bs; i++) {
                        amax = Math.max(amax, Math.abs(want[i]));
                    }
                    for (int i = b; i < b + bs; i++) {
                        // 6e-8 covers values that fall into the half subnormal range.
                        assertThat((double) Math.abs(got[i] - want[i])).as("%s %s[%d]", file, info.name(), i)
                                .isLessThanOrEqualTo(tol * amax + 6e-8);
                    }
                }
                checkDotOnRows(q, info, got);
            }
        }
        assertThat(seen).contains(mainType);
    }

    /** A few rows of each matrix: mapped-segment dot against the decoded values. */
    static void checkDotOnRows(GgufFile f, GgufTensorInfo info, float[] decoded) {
        if (info.shape().length < 2) {
            return;
        }
        int cols = (int) info.shape()[0];
        int rows = (int) (info.elementCount() / cols);
        FloatTensor t = FloatTensor.of(info.type(), f.tensorData(info), info.elementCount());
        float[] x = TensorTestSupport.randomValues(info.name().hashCode(), cols);
        for (int r : new int[] {0, rows / 2, rows - 1}) {
            double ref = TensorTestSupport.referenceDot(decoded, r * cols, x, 0, cols);
            assertThat((double) t.dot((long) r * cols, x, 0, cols)).as("%s row %d", info.name(), r)
                    .isCloseTo(ref, Offset.offset(TensorTestSupport.dotTolerance(decoded, r * cols, x, 0, cols)));
        }
    }

    /** Every quantized tensor of the shared files against gguf-py's dequantizer (sums and sample values). */
    @Test
    void tensorsMatchReferenceFingerprints() throws IOException {
        int checked = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("reference-files.txt"), StandardCharsets.US_ASCII))) {
            String line;
            String openName = null;
            GgufFile f = null;
            try {
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("#")) {
                        continue;
                    }
                    String[] p = line.split(" ");
                    if (!p[0].equals(openName)) {
                        if (f != null) {
                            f.close();
                        }
                        f = GgufFile.open(SharedFixtures.require("models/" + p[0]));
                        openName = p[0];
                    }
                    GgufTensorInfo info = f.tensor(p[1]);
                    assertThat(info.type().name()).isEqualTo(p[2]);
                    float[] v = decode(f, info);
                    assertThat(v.length).isEqualTo(Integer.parseInt(p[3]));
                    double sum = 0, sumsq = 0, weighted = 0, maxAbs = 0;
                    for (int i = 0; i < v.length; i++) {
                        sum += v[i];
                        sumsq += (double) v[i] * v[i];
                        weighted += (double) v[i] * (i % 997 + 1);
                        maxAbs = Math.max(maxAbs, Math.abs(v[i]));
                    }
                    double scale = Math.sqrt(sumsq * v.length) + 1e-12;
                    String what = p[0] + " " + p[1];
                    assertThat(sum).as(what).isCloseTo(Double.parseDouble(p[4]), Offset.offset(1e-6 * scale));
                    assertThat(sumsq).as(what).isCloseTo(Double.parseDouble(p[5]), Offset.offset(1e-6 * sumsq));
                    assertThat(weighted).as(what).isCloseTo(Double.parseDouble(p[6]), Offset.offset(1e-6 * scale * 997));
                    int[] at = {0, 1, 37, v.length - 1};
                    for (int k = 0; k < 4; k++) {
                        assertThat(v[at[k]]).as("%s[%d]", what, at[k])
                                .isCloseTo(Float.parseFloat(p[7 + k]), Offset.offset((float) (maxAbs * 1e-6)));
                    }
                    checked++;
                }
            } finally {
                if (f != null) {
                    f.close();
                }
            }
        }
        assertThat(checked).isGreaterThan(100);
    }

    /**
     * K-quant files: decoded weights are finite with plausible statistics, and re-quantizing them with our
     * quantizer lands close to them (values already on a K-quant grid need little new error).
     */
    @ParameterizedTest
    @ValueSource(strings = {"synthetic-q4_k_m.gguf", "synthetic-q5_k_m.gguf"})
    void kQuantFilesAreSane(String file) {
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        try (GgufFile f = GgufFile.open(SharedFixtures.require("models/" + file))) {
            for (GgufTensorInfo info : f.tensorList()) {
                if (info.type() == GgmlType.F32) {
                    continue;
                }
                seen.add(info.type());
                float[] v = decode(f, info);
                double sum = 0, sumsq = 0;
                for (float x : v) {
                    assertThat(Float.isFinite(x)).as(info.name()).isTrue();
                    sum += x;
                    sumsq += (double) x * x;
                }
                double mean = sum / v.length;
                double std = Math.sqrt(sumsq / v.length - mean * mean);
                assertThat(std).as("%s std", info.name()).isBetween(1e-4, 10.0);
                assertThat(Math.abs(mean)).as("%s mean", info.name()).isLessThan(0.05 * std);
                float[] again = Quantizer.dequantize(info.type(), Quantizer.quantize(info.type(), v), v.length);
                double err2 = 0;
                for (int i = 0; i < v.length; i++) {
                    err2 += (double) (again[i] - v[i]) * (again[i] - v[i]);
                }
                double rel = Math.sqrt(err2 / sumsq);
                double limit = info.type() == GgmlType.Q4_K ? 0.06 : info.type() == GgmlType.Q5_K ? 0.03 : 0.015;
                assertThat(rel).as("%s %s re-quantization RMS error", info.name(), info.type()).isLessThan(limit);
                checkDotOnRows(f, info, v);
            }
        }
        assertThat(seen).contains(GgmlType.Q6_K).containsAnyOf(GgmlType.Q4_K, GgmlType.Q5_K);
    }
}
