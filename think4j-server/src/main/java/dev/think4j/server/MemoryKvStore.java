package dev.think4j.server;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A store inside this process: what replicas share when they are one JVM (tests, or several
 * servers embedded in one application). Least recently used values go first once the bytes exceed
 * {@code maxBytes}, as Redis does under {@code maxmemory-policy allkeys-lru}.
 */
public final class MemoryKvStore implements KvStore {
    private record Value(byte[] bytes, long expiresAt) {
    }

    private final long maxBytes;
    private final LinkedHashMap<String, Value> values = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    public MemoryKvStore(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive");
        }
        this.maxBytes = maxBytes;
    }

    @Override
    public synchronized byte[] get(String key) {
        Value v = live(key);
        return v == null ? null : v.bytes().clone();
    }

    @Override
    public synchronized void put(String key, byte[] value, Duration ttl) {
        remove(key);
        if (value.length > maxBytes) {
            return; // like a full Redis that evicts it at once: a later get misses
        }
        values.put(key, new Value(value.clone(), System.nanoTime() + ttl.toNanos()));
        bytes += value.length;
        for (Iterator<Map.Entry<String, Value>> it = values.entrySet().iterator(); bytes > maxBytes && it.hasNext(); ) {
            Value old = it.next().getValue();
            it.remove();
            bytes -= old.bytes().length;
        }
    }

    @Override
    public synchronized boolean contains(String key) {
        return live(key) != null;
    }

    @Override
    public synchronized void delete(String key) {
        remove(key);
    }

    /** Bytes held now. */
    public synchronized long bytes() {
        return bytes;
    }

    private Value live(String key) {
        Value v = values.get(key);
        if (v != null && System.nanoTime() - v.expiresAt() >= 0) {
            remove(key);
            return null;
        }
        return v;
    }

    private void remove(String key) {
        Value old = values.remove(key);
        if (old != null) {
            bytes -= old.bytes().length;
        }
    }

    @Override
    public String describe() {
        return "memory";
    }

    @Override
    public void close() {
        synchronized (this) {
            values.clear();
            bytes = 0;
        }
    }
}
