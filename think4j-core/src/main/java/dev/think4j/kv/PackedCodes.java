package dev.think4j.kv;

import dev.think4j.tensor.Vectors;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decodes a vector's worth (L = 8 or 16 lanes) of consecutive bit-packed codes (little-endian bit
 * order: code k of a run at bits k*bits) into float lanes, for the attention kernels that read
 * quantized KV in place. The 32-bit word holding a lane's code is broadcast and each lane shifts
 * out its own code; 16 four-bit codes span two words, blended half and half.
 */
final class PackedCodes {
    static final VectorSpecies<Float> F = Vectors.FLOAT;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int LANES = F.length();
    static final VectorSpecies<Byte> B = LANES == 8 ? ByteVector.SPECIES_64 : ByteVector.SPECIES_128;
    /** The kernels handle 8 or 16 lanes; other shapes run the scalar paths. */
    static final boolean VECTOR = LANES == 8 || LANES == 16;

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_SEG = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_SEG = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final IntVector SHIFT2 = IntVector.fromArray(I, shifts(2), 0);
    private static final IntVector SHIFT4 = IntVector.fromArray(I, shifts(4), 0);
    private static final VectorMask<Integer> UPPER = VectorMask.fromLong(I, LANES == 16 ? 0xFF00L : 0L);

    private PackedCodes() {
    }

    /** Per-lane shift counts; a 32-bit word holds 32 / bits codes, so counts restart per word. */
    private static int[] shifts(int bits) {
        int[] s = new int[Math.max(LANES, 1)];
        for (int i = 0; i < s.length; i++) {
            s[i] = (i * bits) % 32;
        }
        return s;
    }

    /** Codes first .. first + LANES - 1 (first a multiple of LANES) as floats. */
    static FloatVector unpack(byte[] data, int first, int bits) {
        IntVector codes;
        if (bits == 2) {
            int word = LANES == 8 ? (short) SHORT_LE.get(data, first >>> 2) : (int) INT_LE.get(data, first >>> 2);
            codes = IntVector.broadcast(I, word).lanewise(VectorOperators.LSHR, SHIFT2).and(3);
        } else {
            IntVector w = IntVector.broadcast(I, (int) INT_LE.get(data, first >>> 1));
            if (LANES == 16) {
                w = w.blend((int) INT_LE.get(data, (first >>> 1) + 4), UPPER);
            }
            codes = w.lanewise(VectorOperators.LSHR, SHIFT4).and(15);
        }
        return (FloatVector) codes.convertShape(VectorOperators.I2F, F, 0);
    }

    /**
     * {@link #unpack(byte[], int, int)} for codes held outside the heap. Deliberately one flat
     * method like its twin: the kernels call it in their innermost loop, and a helper it called
     * pushed it past C2's inlining budget, which turned every vector it made into an object.
     */
    static FloatVector unpack(MemorySegment data, long first, int bits) {
        IntVector codes;
        if (bits == 2) {
            int word = LANES == 8 ? data.get(SHORT_SEG, first >>> 2) : data.get(INT_SEG, first >>> 2);
            codes = IntVector.broadcast(I, word).lanewise(VectorOperators.LSHR, SHIFT2).and(3);
        } else {
            IntVector w = IntVector.broadcast(I, data.get(INT_SEG, first >>> 1));
            if (LANES == 16) {
                w = w.blend(data.get(INT_SEG, (first >>> 1) + 4), UPPER);
            }
            codes = w.lanewise(VectorOperators.LSHR, SHIFT4).and(15);
        }
        return (FloatVector) codes.convertShape(VectorOperators.I2F, F, 0);
    }

    /** LANES signed bytes as floats. */
    static FloatVector bytes(byte[] data, int offset) {
        return (FloatVector) ByteVector.fromArray(B, data, offset).convertShape(VectorOperators.B2F, F, 0);
    }
}
