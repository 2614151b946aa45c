package dev.think4j.server;

import dev.think4j.Think4jException;
import java.time.Duration;

/** Opens the store named by {@code --kv-store}. */
public final class KvStores {
    /** How long connecting may take before the store counts as unreachable. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** How long one reply may take (a large cache over a slow link). */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private KvStores() {
    }

    /**
     * Connects to {@code redis://host:port[/db]} or {@code valkey://...} and pings it.
     *
     * @throws Think4jException in one line when the URI is wrong or the store cannot be reached
     */
    public static KvStore open(String uri) {
        RedisKvStore.Address address;
        try {
            address = RedisKvStore.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new Think4jException("--kv-store " + e.getMessage());
        }
        try {
            return RedisKvStore.connect(address, CONNECT_TIMEOUT, READ_TIMEOUT);
        } catch (KvStore.KvStoreException e) {
            throw new Think4jException("--kv-store " + e.getMessage() + " (start it, or leave out --kv-store to serve without sharing)");
        }
    }
}
