package dev.think4j.tensor;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Rough single-thread matvec throughput per type (not a test, no assertions): run with
 * {@code java --add-modules jdk.incubator.vector -cp think4j-core/target/classes:think4j-core/target/test-classes dev.think4j.tensor.KernelTiming}.
 * Weights live in a native segment like a mapped file; 2048x2048 keeps them cache-resident-ish for kernel cost.
 */
public final class KernelTiming {
    private KernelTiming() {
    }

    public static void main(String[] args) {
        int rows = 2048;
        int cols = 2048;
        float[] w = TensorTestSupport.randomValues(1, rows * cols);
        float[] x = TensorTestSupport.randomValues(2, cols);
        float[] out = new float[rows];
        System.out.printf("vector bits %d, kernels %s%n", Kernels.F.vectorBitSize(), Kernels.ENABLED ? "on" : "off");
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : args.length > 0 ? java.util.Arrays.stream(args).map(GgmlType::valueOf).toList() : TensorTestSupport.TYPES) {
                byte[] bytes = Quantizer.quantize(type, w);
                MemorySegment seg = arena.allocate(bytes.length, 64);
                MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
                FloatTensor t = FloatTensor.of(type, seg, w.length);
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 40; rep++) {
                    long t0 = System.nanoTime();
                    for (int r = 0; r < rows; r++) {
                        out[r] = t.dot((long) r * cols, x, 0, cols);
                    }
                    best = Math.min(best, System.nanoTime() - t0);
                }
                System.out.printf("%-5s %7.3f ms/matvec  %6.2f GB/s weights  %6.2f Gelem/s%n", type, best / 1e6,
                        bytes.length / (double) best, (double) w.length / best);
            }
        }
    }
}
