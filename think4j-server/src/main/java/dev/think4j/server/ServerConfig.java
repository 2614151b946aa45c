package dev.think4j.server;

import java.time.Duration;

/**
 * How to run the server.
 *
 * @param port          0 picks a free port
 * @param prefixEntries finished caches kept for prefix reuse; 0 disables reuse
 * @param prefillChunk  prompt tokens fed between two decode steps of the running streams
 * @param slotSavePath  directory of the session files the /slots endpoints save and restore; null turns them off
 * @param kvStore       {@code redis://host:port[/db]} or {@code valkey://...} shared by replicas, or null for none
 * @param kvStoreTtl    how long a finished cache stays in {@code kvStore}
 */
public record ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch,
                           int contextLength, int prefixEntries, String modelId, int prefillChunk,
                           java.nio.file.Path slotSavePath, String kvStore, Duration kvStoreTtl) {
    /** How long shared caches live unless told otherwise. */
    public static final Duration DEFAULT_KV_STORE_TTL = Duration.ofHours(1);

    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId, int prefillChunk, java.nio.file.Path slotSavePath) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId, prefillChunk, slotSavePath,
                null, DEFAULT_KV_STORE_TTL);
    }

    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId, int prefillChunk) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId, prefillChunk, null);
    }

    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                Scheduler.DEFAULT_PREFILL_CHUNK);
    }

    /** This configuration with session files saved to and restored from {@code dir}. */
    public ServerConfig withSlotSavePath(java.nio.file.Path dir) {
        return new ServerConfig(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                prefillChunk, dir, kvStore, kvStoreTtl);
    }

    /** The same configuration sharing caches through {@code uri} for {@code ttl}. */
    public ServerConfig withKvStore(String uri, Duration ttl) {
        return new ServerConfig(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                prefillChunk, slotSavePath, uri, ttl);
    }
}
