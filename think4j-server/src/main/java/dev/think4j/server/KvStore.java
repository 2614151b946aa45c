package dev.think4j.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes by key, shared by every replica that points at the same store (Redis, Valkey) or kept in
 * this process. Replicas use it to hand compressed KV caches to each other. Methods may be called
 * from any thread. A store that cannot answer throws {@link KvStoreException}; callers treat that as
 * a miss and recompute, so a failing store slows requests down but never fails them.
 */
public interface KvStore extends AutoCloseable {
    /** The value, or null when absent or expired. */
    byte[] get(String key);

    /** Stores {@code value} under {@code key}, replacing any old value, for {@code ttl}. */
    void put(String key, byte[] value, Duration ttl);

    /** The values of {@code keys} in order, null where absent: one round trip where the store allows it. */
    default List<byte[]> getAll(List<String> keys) {
        List<byte[]> values = new ArrayList<>(keys.size());
        for (String k : keys) {
            values.add(get(k));
        }
        return values;
    }

    boolean contains(String key);

    void delete(String key);

    /** Where it is, without secrets, for logs and errors (e.g. {@code redis://127.0.0.1:6379/0}). */
    String describe();

    @Override
    void close();

    /** The store could not be reached or answered with an error. */
    final class KvStoreException extends RuntimeException {
        public KvStoreException(String message) {
            super(message);
        }

        public KvStoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
