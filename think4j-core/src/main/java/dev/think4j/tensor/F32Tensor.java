package dev.think4j.tensor;

import dev.think4j.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** 32-bit float weights, read in place from the mapped file. */
public final class F32Tensor extends FloatTensor {
    static final VectorSpecies<Float> SPECIES = Vectors.FLOAT;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final MemorySegment data;

    public F32Tensor(MemorySegment data, long size) {
        super(size);
        this.data = data;
    }

    /** A heap-backed tensor (tests, synthetic weights). */
    public static F32Tensor wrap(float[] values) {
        // The Vector API loads from heap segments only when they are backed by byte[].
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, FLOAT, 0, values.length);
        return new F32Tensor(seg, values.length);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.get(FLOAT, index * 4);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int i = 0;
        int upper = SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < upper; i += SPECIES.length()) {
            FloatVector w = FloatVector.fromMemorySegment(SPECIES, data, (offset + i) * 4, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromArray(SPECIES, x, xOffset + i);
            acc = w.fma(v, acc);
        }
        float result = dev.think4j.kv.VectorMath.sumLanes(acc); // on every path, see sumLanes
        for (; i < n; i++) {
            result += getFloat(offset + i) * x[xOffset + i];
        }
        return result;
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        MemorySegment.copy(data, FLOAT, offset * 4, out, outOffset, n);
    }
}
