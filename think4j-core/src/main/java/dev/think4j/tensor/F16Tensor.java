package dev.think4j.tensor;

import static dev.think4j.tensor.Kernels.F;
import static dev.think4j.tensor.Kernels.I;
import static dev.think4j.tensor.Kernels.L;
import static dev.think4j.tensor.Kernels.S;
import static dev.think4j.tensor.Kernels.SHORT;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** IEEE half-precision weights, read in place from the mapped file. */
public final class F16Tensor extends FloatTensor {
    /** 2^112: rebiases a half exponent (bias 15) shifted into float position to the float bias (127). */
    private static final float REBIAS = 0x1p112f;

    private final MemorySegment data;

    public F16Tensor(MemorySegment data, long size) {
        super(size);
        this.data = data;
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return Float.float16ToFloat(data.get(SHORT, index * 2));
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.float16ToFloat(data.get(SHORT, (offset + i) * 2));
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
                acc = toFloats(((IntVector) h.convertShape(VectorOperators.S2I, I, 0))).fma(FloatVector.fromArray(F, x, xOffset + i), acc);
            }
            result = dev.think4j.kv.VectorMath.sumLanes(acc);
        }
        for (; i < n; i++) {
            result += getFloat(offset + i) * x[xOffset + i];
        }
        return result;
    }

    /**
     * Half bits (sign-extended in int lanes) to floats with integer ops, as the Vector API has no
     * half-to-float conversion: shifting exponent and mantissa into float position and scaling by 2^112
     * is exact for normals and subnormals alike; exponent 31 (inf/NaN) is mapped to 255 separately.
     */
    private static FloatVector toFloats(IntVector h) {
        IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        FloatVector finite = magnitude.reinterpretAsFloats().mul(REBIAS);
        VectorMask<Integer> special = h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
        IntVector bits = finite.reinterpretAsInts().blend(magnitude.or(0x7F800000), special);
        return bits.or(sign).reinterpretAsFloats();
    }
}
