package dev.think4j.server;

/**
 * How to run the server.
 *
 * @param port          0 picks a free port
 * @param prefixEntries finished caches kept for prefix reuse; 0 disables reuse
 * @param prefillChunk  prompt tokens fed between two decode steps of the running streams
 * @param slotSavePath  directory of the session files the /slots endpoints save and restore; null turns them off
 */
public record ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch,
                           int contextLength, int prefixEntries, String modelId, int prefillChunk,
                           java.nio.file.Path slotSavePath) {
    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId, int prefillChunk) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId, prefillChunk, null);
    }

    /** This configuration with session files saved to and restored from {@code dir}. */
    public ServerConfig withSlotSavePath(java.nio.file.Path dir) {
        return new ServerConfig(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                prefillChunk, dir);
    }

    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                Scheduler.DEFAULT_PREFILL_CHUNK);
    }
}
