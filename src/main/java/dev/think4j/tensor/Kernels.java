package dev.think4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species shared by the quantized dot kernels. Every kernel works on L float lanes and loads
 * exactly L bytes (or shorts) per step, so byte/short/int/float vectors all have the same lane count
 * and conversions never need part shuffles. The kernels assume L is 8 or 16 (AVX2 / AVX-512);
 * other widths fall back to block decoding, which is slower but still correct.
 * The width comes from {@link Vectors}; {@code -Dthink4j.vector.bits=512} selects the 16-lane path.
 */
final class Kernels {
    static final VectorSpecies<Float> F;
    static final VectorSpecies<Integer> I;
    static final VectorSpecies<Byte> B;
    static final VectorSpecies<Short> S;
    static final int L;
    static final boolean ENABLED;

    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    /** 0..31, sliced to give per-lane shift counts for the 5th-bit masks of Q5_0 / Q5_1. */
    static final int[] IOTA32 = new int[32];

    static {
        VectorSpecies<Float> f = Vectors.FLOAT;
        F = f;
        L = F.length();
        ENABLED = L == 8 || L == 16;
        VectorShape narrowBytes = VectorShape.forBitSize(ENABLED ? L * 8 : 64);
        VectorShape narrowShorts = VectorShape.forBitSize(ENABLED ? L * 16 : 128);
        I = VectorSpecies.of(int.class, F.vectorShape());
        B = VectorSpecies.of(byte.class, narrowBytes);
        S = VectorSpecies.of(short.class, narrowShorts);
        for (int i = 0; i < 32; i++) {
            IOTA32[i] = i;
        }
    }

    private Kernels() {
    }

    /**
     * Shifts every byte right by n (result must be masked by the caller): x86 has no byte-lane
     * shifts, so shifting the same bits as int lanes is one instruction where a byte shift is several.
     */
    static ByteVector shr(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes();
    }

    /** Byte-wise left shift for values whose shifted bits stay inside their byte. */
    static ByteVector shl(ByteVector v, int n) {
        return v.lanewise(VectorOperators.LSHL, n);
    }

    static float f16(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(SHORT, byteOffset));
    }

    static FloatVector bytesToFloats(ByteVector v) {
        return (FloatVector) v.castShape(F, 0);
    }

    static IntVector bytesToUnsignedInts(ByteVector v) {
        return (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    static IntVector bytesToInts(ByteVector v) {
        return (IntVector) v.castShape(I, 0);
    }

    static FloatVector intsToFloats(IntVector v) {
        return (FloatVector) v.castShape(F, 0);
    }

    static IntVector shortsToInts(ShortVector v) {
        return (IntVector) v.castShape(I, 0);
    }
}
