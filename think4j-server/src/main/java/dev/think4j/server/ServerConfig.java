package dev.think4j.server;

/**
 * How to run the server.
 *
 * @param port          0 picks a free port
 * @param prefixEntries finished caches kept for prefix reuse; 0 disables reuse
 * @param prefillChunk  prompt tokens fed between two decode steps of the running streams
 */
public record ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch,
                           int contextLength, int prefixEntries, String modelId, int prefillChunk) {
    public ServerConfig(String host, int port, long kvBudget, String kvSpec, int maxQueue, int maxBatch, int contextLength,
                        int prefixEntries, String modelId) {
        this(host, port, kvBudget, kvSpec, maxQueue, maxBatch, contextLength, prefixEntries, modelId,
                Scheduler.DEFAULT_PREFILL_CHUNK);
    }
}
