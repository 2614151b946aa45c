package dev.think4j.bench.jmh;

import dev.think4j.gguf.GgmlType;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.Quantizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Shared setup: a [rows x cols] weight matrix of random values encoded in a GGML type, held off-heap like a mapped GGUF. */
final class WeightData {
    private WeightData() {
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
