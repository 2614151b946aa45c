package dev.think4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species shared by the quantized dot kernels. Every kernel works on L float lanes and loads
 * exactly L bytes (or shorts) per step, so byte/short/int/float vectors all have the same lane count
 * and conversions never need part shuffles. The kernels assume L is 8 or 16 (AVX2 / AVX-512);
 * other widths fall back to block decoding, which is slower but still correct.
 * The width comes from {@link Vectors}; {@code -Dthink4j.vector.bits=512} selects the 16-lane path.
 *
 * <p>Kernels write their lane conversions ({@code convertShape} with a constant conversion) inline rather
 * than through small helpers here: the Vector API's own methods are force-inlined, ours are not,
 * and once a large kernel has spent C2's inlining budget a helper stays a real call whose vector
 * arguments and results go through the API's Java fallback. On a Q4_K_M file (Q4_K and Q6_K
 * kernels in one process) that made decode 5x slower and produced gigabytes of garbage per minute.
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

    static float f16(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(SHORT, byteOffset));
    }
}
