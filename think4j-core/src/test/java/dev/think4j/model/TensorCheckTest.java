package dev.think4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.Quantizer;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The --check-tensors scan finds the first non-finite value of every weight type, across chunk boundaries. */
class TensorCheckTest {
    private static final int N = 3 * (1 << 16) + 512; // more than one scan chunk, a multiple of 256

    private static float[] values(long seed) {
        Random r = new Random(seed);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static FloatTensor tensor(GgmlType type, byte[] data) {
        return FloatTensor.of(type, MemorySegment.ofArray(data), N);
    }

    @Test
    void finiteTensorsPass() {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_K, GgmlType.Q6_K}) {
            assertThat(TensorCheck.firstNonFinite(tensor(type, Quantizer.quantize(type, values(1))))).as(type.name()).isEqualTo(-1);
        }
    }

    @Test
    void findsTheFirstNaNOrInfinityInFloatTypes() {
        float[] v = values(2);
        v[N - 5] = Float.POSITIVE_INFINITY;
        v[(1 << 16) + 7] = Float.NaN;
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            assertThat(TensorCheck.firstNonFinite(tensor(type, Quantizer.quantize(type, v)))).as(type.name())
                    .isEqualTo((1 << 16) + 7);
        }
    }

    /** A NaN block scale makes the whole block non-finite: the scan reports the block's first element. */
    @Test
    void findsANaNScaleInBlockTypes() {
        byte[] q8 = Quantizer.quantize(GgmlType.Q8_0, values(3));
        int block = 2 * (1 << 16) / 32 + 3; // in the third chunk
        ByteBuffer.wrap(q8).order(ByteOrder.LITTLE_ENDIAN).putShort(block * 34, (short) 0x7E00);
        assertThat(TensorCheck.firstNonFinite(tensor(GgmlType.Q8_0, q8))).isEqualTo(block * 32L);

        byte[] q6 = Quantizer.quantize(GgmlType.Q6_K, values(4));
        ByteBuffer.wrap(q6).order(ByteOrder.LITTLE_ENDIAN).putShort(5 * 210 + 208, (short) 0x7C00); // d of block 5
        assertThat(TensorCheck.firstNonFinite(tensor(GgmlType.Q6_K, q6))).isBetween(5 * 256L, 6 * 256L - 1);
    }
}
