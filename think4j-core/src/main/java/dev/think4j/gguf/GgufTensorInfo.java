package dev.think4j.gguf;

import java.util.Arrays;

/**
 * One tensor's entry in a GGUF file. {@code shape[0]} is the fastest-varying dimension
 * (ggml's ne[0]): for a weight matrix that is the number of columns (input features).
 * {@code offset} is relative to the start of the tensor-data section.
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
