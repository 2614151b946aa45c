package dev.think4j.model;

import dev.think4j.Think4jException;
import dev.think4j.gguf.GgufFile;
import dev.think4j.gguf.GgufTensorInfo;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.Parallel;
import dev.think4j.tensor.UnsupportedTensorTypeException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code --check-tensors} scan: decodes every weight and fails on the first NaN or infinity,
 * naming the tensor. A bad weight otherwise shows up only as non-finite logits, without saying where.
 */
public final class TensorCheck {
    /** Elements decoded per task: a multiple of every block size (256 for k-quants). */
    private static final int CHUNK = 1 << 16;

    private TensorCheck() {
    }

    public static void requireFinite(GgufFile gguf) {
        for (GgufTensorInfo t : gguf.tensorList()) {
            FloatTensor tensor;
            try {
                tensor = FloatTensor.of(t.type(), gguf.tensorData(t), t.elementCount());
            } catch (UnsupportedTensorTypeException e) {
                continue; // a type the model cannot compute with is never read either
            }
            long bad = firstNonFinite(tensor);
            if (bad >= 0) {
                throw new Think4jException(gguf.path() + ": tensor '" + GgufFile.printable(t.name()) + "' holds a non-finite value ("
                        + tensor.getFloat(bad) + ") at element " + bad + " (found by --check-tensors)");
            }
        }
    }

    /** Index of the first NaN or infinity, or -1. */
    static long firstNonFinite(FloatTensor t) {
        long n = t.size();
        int chunks = Math.toIntExact((n + CHUNK - 1) / CHUNK);
        AtomicLong first = new AtomicLong(Long.MAX_VALUE);
        Parallel.forRange(chunks, n, c -> {
            long from = (long) c * CHUNK;
            int len = (int) Math.min(CHUNK, n - from);
            float[] buf = new float[len];
            t.dequantize(from, buf, 0, len);
            for (int i = 0; i < len; i++) {
                if (!Float.isFinite(buf[i])) {
                    first.accumulateAndGet(from + i, Math::min);
                    return;
                }
            }
        });
        return first.get() == Long.MAX_VALUE ? -1 : first.get();
    }
}
