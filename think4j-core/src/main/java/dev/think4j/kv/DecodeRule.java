package dev.think4j.kv;

/**
 * What one head does between decoded tokens, decided by a press at the compression point (and
 * possibly holding per-head state, such as H2O's accumulated attention). A rule only decides; the
 * head carries out the {@link Step} it returns and asks again until the rule has nothing to do.
 */
public interface DecodeRule {
    /** An action on the head's storage. */
    sealed interface Step {
    }

    /** Move the oldest {@code tokens} dense tail tokens into compressed storage (the last plan's channels and format). */
    record Flush(int tokens) implements Step {
    }

    /** Drop the tokens at these cache-order indices (increasing; segments first, then the tail). */
    record Evict(int[] indices) implements Step {
    }

    /**
     * After each decoded token, once all layers hold it: the next step, or null when there is
     * nothing (more) to do. {@code generated} counts tokens since the last prefill ended.
     */
    Step next(HeadStatus head, int generated);

    /** True when the head should feed {@link #observe} its decode-time attention. */
    default boolean observesAttention() {
        return false;
    }

    /** Decode attention of one query head over the head's tokens in cache order. */
    default void observe(float[] probs, int off, int n) {
    }
}
