package dev.think4j.bench.jmh;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.Parallel;
import dev.think4j.tensor.Quantizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Shared setup: a [rows x cols] weight matrix of random values encoded in a GGML type, held off-heap like a mapped GGUF. */
final class WeightData {
    private WeightData() {
    }

    /**
     * A weight matrix of {@code type} and {@code shape} ("ROWSxCOLS") with inputs and outputs for
     * {@code tokens} tokens: what the matrix benchmarks set up per trial. Sets the thread count
     * first when it is positive. Close to free the weights.
     */
    record Operands(Arena arena, FloatTensor weights, float[] x, float[] out, int rows, int cols) implements AutoCloseable {
        static Operands of(String type, String shape, int threads, int tokens) {
            if (threads > 0) {
                Parallel.setThreads(threads);
            }
            int[] rc = shape(shape);
            Arena arena = Arena.ofShared();
            FloatTensor weights = WeightData.weights(GgmlType.valueOf(type), rc[0], rc[1], 42, arena);
            return new Operands(arena, weights, randomFloats(tokens * rc[1], 7, 1.0), new float[tokens * rc[0]], rc[0], rc[1]);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Parses "ROWSxCOLS". */
    static int[] shape(String s) {
        String[] parts = s.toLowerCase(java.util.Locale.ROOT).split("x");
        if (parts.length != 2) {
            throw new IllegalArgumentException("shape must be ROWSxCOLS, got " + s);
        }
        return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
    }

    /** Random floats (roughly weight-like: zero mean, small spread) of the given length. */
    static float[] randomFloats(int n, long seed, double scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    /** Quantizes random weights to {@code type} and wraps the bytes, copied into {@code arena}, as a tensor. */
    static FloatTensor weights(GgmlType type, int rows, int cols, long seed, Arena arena) {
        long elements = (long) rows * cols;
        float[] values = randomFloats(Math.toIntExact(elements), seed, 0.05);
        byte[] bytes = Quantizer.quantize(type, values);
        MemorySegment segment = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, segment, 0, bytes.length);
        return FloatTensor.of(type, segment, elements);
    }
}
