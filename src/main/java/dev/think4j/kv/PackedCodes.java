package dev.think4j.kv;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decodes eight consecutive bit-packed codes (little-endian bit order: code k of a run at bits
 * k*bits) into eight float lanes, for the attention kernels that read quantized KV in place.
 * A run of eight 2-bit codes is one 16-bit word, of eight 4-bit codes one 32-bit word: the word is
 * broadcast to all lanes and each lane shifts out its own code.
 */
final class PackedCodes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;
    static final int LANES = 8;
    /** The species are 256-bit; narrower hardware would emulate them slowly, so kernels go scalar there. */
    static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= LANES;

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final IntVector SHIFT2 = IntVector.fromArray(I, new int[] {0, 2, 4, 6, 8, 10, 12, 14}, 0);
    private static final IntVector SHIFT4 = IntVector.fromArray(I, new int[] {0, 4, 8, 12, 16, 20, 24, 28}, 0);

    private PackedCodes() {
    }

    /** The 32-bit word holding eight codes starting at code index {@code first} (a multiple of 8). */
    static int word(byte[] data, int first, int bits) {
        return bits == 2 ? (short) SHORT_LE.get(data, first >>> 2) : (int) INT_LE.get(data, first >>> 1);
    }

    /** The eight unsigned codes of a word as floats. */
    static FloatVector unpack(int word, int bits) {
        IntVector w = IntVector.broadcast(I, word);
        IntVector codes = bits == 2
                ? w.lanewise(VectorOperators.LSHR, SHIFT2).and(3)
                : w.lanewise(VectorOperators.LSHR, SHIFT4).and(15);
        return (FloatVector) codes.convert(VectorOperators.I2F, 0);
    }

    /** Eight signed bytes as floats. */
    static FloatVector bytes(byte[] data, int offset) {
        return (FloatVector) ByteVector.fromArray(B, data, offset).convertShape(VectorOperators.B2F, F, 0);
    }
}
