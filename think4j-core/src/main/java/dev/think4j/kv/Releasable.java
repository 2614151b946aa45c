package dev.think4j.kv;

/** A store that may hold memory outside the Java heap (see {@link NativePages}). */
public interface Releasable {
    /**
     * Frees that memory now rather than when the collector finds the store unreachable. The store
     * must not be read afterwards. Stores that live on the heap have nothing to do.
     */
    default void release() {
    }
}
