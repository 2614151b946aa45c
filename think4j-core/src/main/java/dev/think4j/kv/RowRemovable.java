package dev.think4j.kv;

/** A store that can drop individual tokens (needed by decode-time eviction). */
public interface RowRemovable {
    /** Keeps only the rows at the given increasing indices. */
    void retain(int[] rows);
}
