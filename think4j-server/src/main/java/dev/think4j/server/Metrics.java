package dev.think4j.server;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/** Counters and gauges behind GET /metrics, rendered in the Prometheus text format. */
public final class Metrics {
    private static final long RATE_WINDOW_NANOS = 5_000_000_000L;

    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong prefixReusedTokens = new AtomicLong();
    private final AtomicLong prefixHits = new AtomicLong();
    private final AtomicLong sequenceFailures = new AtomicLong();
    private volatile boolean schedulerUp = true;
    private volatile int prefilling;
    private final Map<Integer, AtomicLong> requestsByStatus = new TreeMap<>();
    /** (time, tokens) per decode step inside the rate window. */
    private final ArrayDeque<long[]> recentSteps = new ArrayDeque<>();
    private volatile long kvBytesInUse;
    private volatile long kvReservedBytes;
    private volatile long kvPrefixBytes;
    private volatile int prefixEntries;
    private volatile int active;
    private volatile int queued;
    private volatile int peakActive;
    private final long kvBudget;

    public Metrics(long kvBudget) {
        this.kvBudget = kvBudget;
    }

    public void request(int status) {
        synchronized (requestsByStatus) {
            requestsByStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
        }
    }

    public long requests(int status) {
        synchronized (requestsByStatus) {
            AtomicLong n = requestsByStatus.get(status);
            return n == null ? 0 : n.get();
        }
    }

    void prompt(int tokens, int reused) {
        promptTokens.addAndGet(tokens);
        if (reused > 0) {
            prefixHits.incrementAndGet();
            prefixReusedTokens.addAndGet(reused);
        }
    }

    void decoded(int tokens) {
        generatedTokens.addAndGet(tokens);
        long now = System.nanoTime();
        synchronized (recentSteps) {
            recentSteps.addLast(new long[] {now, tokens});
            trim(now);
        }
    }

    private void trim(long now) {
        while (!recentSteps.isEmpty() && now - recentSteps.peekFirst()[0] > RATE_WINDOW_NANOS) {
            recentSteps.removeFirst();
        }
    }

    /** Generated tokens per second over the last few seconds. */
    public double tokensPerSecond() {
        long now = System.nanoTime();
        synchronized (recentSteps) {
            trim(now);
            long sum = 0;
            for (long[] s : recentSteps) {
                sum += s[1];
            }
            return sum / (RATE_WINDOW_NANOS / 1e9);
        }
    }

    void sequenceFailed() {
        sequenceFailures.incrementAndGet();
    }

    public long sequenceFailures() {
        return sequenceFailures.get();
    }

    void schedulerUp(boolean up) {
        schedulerUp = up;
    }

    /** @param active admitted sequences (prefilling or decoding); {@code prefilling} of them still take their prompt */
    void gauges(long inUse, long reserved, long prefix, int entries, int active, int prefilling, int queued) {
        this.kvBytesInUse = inUse;
        this.prefilling = prefilling;
        this.kvReservedBytes = reserved;
        this.kvPrefixBytes = prefix;
        this.prefixEntries = entries;
        this.active = active;
        this.queued = queued;
        if (active > peakActive) {
            peakActive = active;
        }
    }

    public long kvBytesInUse() {
        return kvBytesInUse;
    }

    public long kvReservedBytes() {
        return kvReservedBytes;
    }

    public long kvPrefixBytes() {
        return kvPrefixBytes;
    }

    public int activeSequences() {
        return active;
    }

    public int prefillingSequences() {
        return prefilling;
    }

    public int queuedSequences() {
        return queued;
    }

    public int peakActiveSequences() {
        return peakActive;
    }

    public long generatedTokens() {
        return generatedTokens.get();
    }

    public long prefixHits() {
        return prefixHits.get();
    }

    public long prefixReusedTokens() {
        return prefixReusedTokens.get();
    }

    public String prometheus() {
        StringBuilder sb = new StringBuilder();
        gauge(sb, "think4j_kv_bytes_in_use", "Exact KV cache bytes held by active sequences", kvBytesInUse);
        gauge(sb, "think4j_kv_reserved_bytes", "KV bytes reserved for active sequences (upper bounds used for admission)",
                kvReservedBytes);
        gauge(sb, "think4j_kv_prefix_cache_bytes", "KV bytes held by finished caches kept for prefix reuse", kvPrefixBytes);
        gauge(sb, "think4j_kv_prefix_cache_entries", "Finished caches kept for prefix reuse", prefixEntries);
        gauge(sb, "think4j_kv_budget_bytes", "The --kv-budget", kvBudget);
        gauge(sb, "think4j_active_sequences", "Admitted sequences (taking their prompt or being decoded)", active);
        gauge(sb, "think4j_prefilling_sequences", "Admitted sequences whose prompt is still being fed", prefilling);
        gauge(sb, "think4j_queued_sequences", "Sequences waiting for admission", queued);
        gauge(sb, "think4j_peak_active_sequences", "Most sequences decoded at once since start", peakActive);
        gauge(sb, "think4j_tokens_per_second", "Generated tokens per second over the last 5 s", tokensPerSecond());
        counter(sb, "think4j_generated_tokens_total", "Generated tokens", generatedTokens.get());
        counter(sb, "think4j_prompt_tokens_total", "Prompt tokens received", promptTokens.get());
        counter(sb, "think4j_prefix_reused_tokens_total", "Prompt tokens served from a cached prefix", prefixReusedTokens.get());
        counter(sb, "think4j_prefix_hits_total", "Requests that reused a cached prefix", prefixHits.get());
        counter(sb, "think4j_sequence_failures_total", "Sequences ended by a server-side failure", sequenceFailures.get());
        gauge(sb, "think4j_scheduler_up", "1 while the scheduler loop runs", schedulerUp ? 1 : 0);
        sb.append("# HELP think4j_requests_total HTTP requests by response status\n");
        sb.append("# TYPE think4j_requests_total counter\n");
        synchronized (requestsByStatus) {
            requestsByStatus.forEach((status, n) ->
                    sb.append("think4j_requests_total{status=\"").append(status).append("\"} ").append(n.get()).append('\n'));
        }
        return sb.toString();
    }

    private static void gauge(StringBuilder sb, String name, String help, double value) {
        metric(sb, name, help, "gauge", value);
    }

    private static void counter(StringBuilder sb, String name, String help, double value) {
        metric(sb, name, help, "counter", value);
    }

    private static void metric(StringBuilder sb, String name, String help, String type, double value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        sb.append(name).append(' ');
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            sb.append((long) value);
        } else {
            sb.append(value);
        }
        sb.append('\n');
    }
}
