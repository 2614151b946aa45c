package dev.think4j.kv;

/**
 * One KV compression method. Presses compose in a fixed stage order (evict, prune channels,
 * quantize); each sees one (layer, KV head) at a time and only edits the plan it is handed.
 */
public interface KvPress {
    enum Stage { EVICT, PRUNE, QUANTIZE }

    Stage stage();

    /** The spec string that recreates this press (e.g. {@code think:0.5}). */
    String spec();

    /** Observation-window length this press needs at compression time (0 when it needs none). */
    default int window() {
        return 0;
    }

    /** True when the press drops tokens during decode (needs storage that can lose single tokens). */
    default boolean evictsDuringDecode() {
        return false;
    }

    /** End of prefill: decide what to keep and how to store it. */
    void compress(HeadCompression head);

    /**
     * After each decoded token, once all layers hold it: a chance to evict or to flush tail tokens into
     * compressed storage. {@code generated} counts tokens since the last prefill ended.
     */
    default void afterToken(HeadCache head, int generated) {
    }

    /** True when {@link #observeAttention} should be fed decode-time attention probabilities. */
    default boolean observesAttention() {
        return false;
    }

    /** Decode attention of one query head over head's tokens in cache order (segments, then tail). */
    default void observeAttention(HeadCache head, float[] probs, int off, int n) {
    }
}
