package dev.think4j.tensor;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgmlType;

/** The model uses a weight type think4j cannot compute with. */
public final class UnsupportedTensorTypeException extends Think4jException {
    public UnsupportedTensorTypeException(GgmlType type) {
        super("unsupported tensor type " + type + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
    }
}
