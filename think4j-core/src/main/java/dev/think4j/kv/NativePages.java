package dev.think4j.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The memory of one store's pages, outside the Java heap. Kept on the heap, a cache's pages make
 * the collector size the heap (and so the process) at a multiple of what the cache holds; here the
 * process holds what the store counts, and the collector never copies it.
 *
 * <p>{@link #release()} frees everything at once (a cache cleared at the end of a conversation, a
 * segment dropped by eviction). A store dropped without release is freed by a cleaner once it is
 * unreachable, so forgetting to release costs time, not memory for good.
 */
final class NativePages {
    private static final Cleaner CLEANER = Cleaner.create();
    /**
     * Closing a shared arena waits for a handshake with every Java thread (35-90 us measured here),
     * and clearing a 1B-shaped cache closes hundreds: done inline, that stalled the caller (the
     * server's scheduler) for tens of milliseconds per finished request.
     */
    private static final ExecutorService RELEASER = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("think4j-kv-release").unstarted(r));

    private final Arena arena;
    private final Cleaner.Cleanable cleanable;
    private boolean released;

    /** Pages freed when {@code owner} becomes unreachable, unless released first. */
    NativePages(Object owner) {
        // Shared: attention reads a cache's pages from every thread of the pool.
        Arena a = Arena.ofShared();
        this.arena = a;
        this.cleanable = CLEANER.register(owner, a::close);
    }

    /** Zeroed memory, 8-byte aligned so any element type can be read at its natural alignment. */
    MemorySegment allocate(long bytes) {
        if (released) {
            throw new IllegalStateException("store already released");
        }
        return arena.allocate(bytes, 8);
    }

    boolean isReleased() {
        return released;
    }

    /**
     * Frees every page, on a background thread, without blocking the caller; the store must not be
     * read afterwards. Idempotent.
     */
    void release() {
        if (!released) {
            released = true;
            RELEASER.execute(cleanable::clean);
        }
    }
}
