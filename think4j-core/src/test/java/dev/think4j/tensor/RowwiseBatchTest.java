package dev.think4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.gguf.GgmlType;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batched decode must not change any sequence's result: every row of {@link FloatTensor#matmulRowwise}
 * equals {@link FloatTensor#matvec} of that token alone, bit for bit, whatever the batch size (the
 * kernels handle tokens in groups, so sizes around the group width and a ragged tail are covered).
 */
class RowwiseBatchTest {
    static java.util.List<GgmlType> types() {
        return TensorTestSupport.TYPES;
    }

    @ParameterizedTest
    @MethodSource("types")
    void everyBatchRowEqualsItsOwnMatvec(GgmlType type) {
        int rows = 40; // two full row tiles and a ragged one
        int cols = 512;
        FloatTensor w = TensorTestSupport.tensor(type, TensorTestSupport.randomValues(11, rows * cols));
        for (int n : new int[] {2, 3, 4, 5, 8, 9}) {
            float[] x = TensorTestSupport.randomValues(100 + n, n * cols);
            float[] batch = new float[n * rows];
            w.matmulRowwise(x, batch, n, rows, cols);
            for (int t = 0; t < n; t++) {
                float[] single = new float[rows];
                w.matvec(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), single, rows, cols);
                float[] row = Arrays.copyOfRange(batch, t * rows, (t + 1) * rows);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(row[r]))
                            .as("%s, batch of %d, token %d, row %d: %s vs %s", type, n, t, r, row[r], single[r])
                            .isEqualTo(Float.floatToRawIntBits(single[r]));
                }
            }
        }
    }
}
