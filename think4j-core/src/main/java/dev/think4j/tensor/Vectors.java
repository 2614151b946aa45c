package dev.think4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float vector shape every kernel uses: the hardware's preferred one (512 bits on AVX-512,
 * 256 on AVX2). One shape matters: C2 resolves vector operations whose exact class it cannot prove
 * (accumulators carried around loops) from the shared type profile of the Vector API's methods;
 * once a second shape has run anywhere in the process those profiles are mixed, the intrinsics
 * fail and every vector is boxed (measured: attention kernels 7-9x slower when 512-bit matrix
 * kernels had run in the same JVM). {@code -Dthink4j.vector.bits=N} overrides the width.
 */
public final class Vectors {
    public static final VectorSpecies<Float> FLOAT;

    static {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int bits = Integer.getInteger("think4j.vector.bits", preferred);
        VectorSpecies<Float> f;
        try {
            f = bits <= preferred ? VectorSpecies.of(float.class, VectorShape.forBitSize(bits)) : FloatVector.SPECIES_PREFERRED;
        } catch (IllegalArgumentException e) {
            f = FloatVector.SPECIES_PREFERRED;
        }
        FLOAT = f;
    }

    private Vectors() {
    }
}
