package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.I;
import static dev.think4j.tensor.Kernels.L;
import static dev.think4j.tensor.Kernels.S;
import static dev.think4j.tensor.Kernels.SHORT;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** bfloat16 weights (the top half of a float32), read in place from the mapped file. */
public final class BF16Tensor extends FloatTensor {
    private final MemorySegment data;

    public BF16Tensor(MemorySegment data, long size) {
        super(size);
        this.data = data;
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float getFloat(long index) {
        return Float.intBitsToFloat(data.get(SHORT, index * 2) << 16);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.intBitsToFloat(data.get(SHORT, (offset + i) * 2) << 16);
        }
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int i = 0;
        float result = 0f;
        if (Kernels.ENABLED) { // even for n < L: sumLanes must run on every path
            FloatVector acc = FloatVector.zero(F);
            int upper = n - n % L;
            for (; i < upper; i += L) {
                ShortVector h = ShortVector.fromMemorySegment(S, data, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN);
                // Sign extension into the int lane is harmless: the shift pushes those bits out.
                FloatVector w = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
            }
            result = dev.think4j.kv.VectorMath.sumLanes(acc);
        }
        for (; i < n; i++) {
            result += getFloat(offset + i) * x[xOffset + i];
        }
        return result;
    }
}
