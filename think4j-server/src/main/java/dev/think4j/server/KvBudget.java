package dev.think4j.server;

/**
 * KV-byte accounting against --kv-budget. Active sequences hold reservations (upper bounds of what
 * their caches can grow to); finished caches kept for prefix reuse are counted separately so they
 * can be evicted first. Only the scheduler thread changes it; metrics read it from other threads.
 */
final class KvBudget {
    private final long capacity;
    private long reserved;
    private long prefixBytes;

    KvBudget(long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("KV budget must be positive, got " + capacity);
        }
        this.capacity = capacity;
    }

    long capacity() {
        return capacity;
    }

    synchronized long reserved() {
        return reserved;
    }

    synchronized long prefixBytes() {
        return prefixBytes;
    }

    synchronized long free() {
        return capacity - reserved - prefixBytes;
    }

    /** Reserves {@code bytes} if they fit next to what is reserved and held for prefixes. */
    synchronized boolean tryReserve(long bytes) {
        if (bytes > capacity - reserved - prefixBytes) {
            return false;
        }
        reserved += bytes;
        return true;
    }

    /** Changes an existing reservation (shrink after compression); never fails on shrink. */
    synchronized void adjust(long from, long to) {
        reserved += to - from;
    }

    synchronized void release(long bytes) {
        reserved -= bytes;
        if (reserved < 0) {
            throw new IllegalStateException("KV reservation underflow: " + reserved);
        }
    }

    synchronized void addPrefix(long bytes) {
        prefixBytes += bytes;
    }

    synchronized void removePrefix(long bytes) {
        prefixBytes -= bytes;
        if (prefixBytes < 0) {
            throw new IllegalStateException("prefix cache bytes underflow: " + prefixBytes);
        }
    }
}
