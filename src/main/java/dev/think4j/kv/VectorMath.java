package dev.think4j.kv;

import jdk.incubator.vector.FloatVector;

/**
 * Moved to {@link dev.think4j.tensor.VectorMath} (tensor kernels must not depend on kv). Kept only so
 * that branches still calling the old name merge cleanly; delete once nothing names it.
 */
@Deprecated
public final class VectorMath {
    private VectorMath() {
    }

    public static float sumLanes(FloatVector v) {
        return dev.think4j.tensor.VectorMath.sumLanes(v);
    }
}
