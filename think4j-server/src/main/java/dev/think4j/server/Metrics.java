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
    /** Percentiles reported for latencies. */
    static final double[] QUANTILES = {0.5, 0.9, 0.99};
    private final LatencyWindow firstToken = new LatencyWindow(4096);
    private final LatencyWindow interToken = new LatencyWindow(65536);
    /** Per batch size (last slot: that size and more): decode steps and their nanoseconds. */
    private final long[] decodeSteps = new long[257];
    private final long[] decodeNanos = new long[257];
    private final AtomicLong prefillNanos = new AtomicLong();
    private final AtomicLong prefillFed = new AtomicLong();

    private volatile String kvStore;
    private final AtomicLong kvStoreHits = new AtomicLong();
    private final AtomicLong kvStoreMisses = new AtomicLong();
    private final AtomicLong kvStoreErrors = new AtomicLong();
    private final AtomicLong kvStoreReusedTokens = new AtomicLong();
    private final AtomicLong kvStoreReadBytes = new AtomicLong();
    private final AtomicLong kvStoreWrittenBytes = new AtomicLong();
    private final AtomicLong kvStoreStores = new AtomicLong();
    private final AtomicLong kvStoreSkipped = new AtomicLong();
    private final AtomicLong kvStoreLoadNanos = new AtomicLong();
    private final AtomicLong kvStoreStoreNanos = new AtomicLong();

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

    /** A sequence's first token, {@code nanos} after its request was queued. */
    void firstToken(long nanos) {
        firstToken.add(nanos / 1e9);
    }

    /** Time between two tokens of one sequence. */
    void interToken(long nanos) {
        interToken.add(nanos / 1e9);
    }

    /** One batched decode forward of {@code batch} sequences. */
    void decodeStep(int batch, long nanos) {
        synchronized (decodeSteps) {
            int i = Math.min(batch, decodeSteps.length - 1);
            decodeSteps[i]++;
            decodeNanos[i] += nanos;
        }
    }

    /** One prefill forward of {@code tokens} prompt tokens. */
    void prefilled(int tokens, long nanos) {
        prefillFed.addAndGet(tokens);
        prefillNanos.addAndGet(nanos);
    }

    /** p50, p90, p99 of the time to first token over the recent window, in seconds (NaN before any). */
    public double[] timeToFirstToken() {
        return firstToken.quantiles(QUANTILES);
    }

    /** p50, p90, p99 of the time between a sequence's tokens over the recent window, in seconds. */
    public double[] interTokenLatency() {
        return interToken.quantiles(QUANTILES);
    }

    public long firstTokens() {
        return firstToken.count();
    }

    public long interTokens() {
        return interToken.count();
    }

    /** Decode steps that ran exactly {@code batch} sequences (the last size counts all larger ones too). */
    public long decodeSteps(int batch) {
        synchronized (decodeSteps) {
            return decodeSteps[Math.min(batch, decodeSteps.length - 1)];
        }
    }

    /** Seconds spent in decode forwards of exactly {@code batch} sequences. */
    public double decodeSeconds(int batch) {
        synchronized (decodeSteps) {
            return decodeNanos[Math.min(batch, decodeSteps.length - 1)] / 1e9;
        }
    }

    /** Seconds spent in decode forwards of any batch size. */
    public double decodeSeconds() {
        synchronized (decodeSteps) {
            long s = 0;
            for (long n : decodeNanos) {
                s += n;
            }
            return s / 1e9;
        }
    }

    public double prefillSeconds() {
        return prefillNanos.get() / 1e9;
    }

    public long prefillTokens() {
        return prefillFed.get();
    }

    /** A shared store is configured: its counters appear in {@link #prometheus()}. */
    void kvStoreEnabled(String where) {
        kvStore = where;
    }

    /** A request started from a cache loaded from the store, {@code tokens} long. */
    void kvStoreHit(int tokens) {
        kvStoreHits.incrementAndGet();
        kvStoreReusedTokens.addAndGet(tokens);
    }

    void kvStoreMiss() {
        kvStoreMisses.incrementAndGet();
    }

    void kvStoreError() {
        kvStoreErrors.incrementAndGet();
    }

    void kvStoreRead(long bytes) {
        kvStoreReadBytes.addAndGet(bytes);
    }

    void kvStoreWritten(long bytes) {
        kvStoreWrittenBytes.addAndGet(bytes);
    }

    void kvStoreStored() {
        kvStoreStores.incrementAndGet();
    }

    void kvStoreSkip() {
        kvStoreSkipped.incrementAndGet();
    }

    void kvStoreLoadNanos(long nanos) {
        kvStoreLoadNanos.addAndGet(nanos);
    }

    void kvStoreStoreNanos(long nanos) {
        kvStoreStoreNanos.addAndGet(nanos);
    }

    public long kvStoreHits() {
        return kvStoreHits.get();
    }

    public long kvStoreMisses() {
        return kvStoreMisses.get();
    }

    public long kvStoreErrors() {
        return kvStoreErrors.get();
    }

    public long kvStoreReusedTokens() {
        return kvStoreReusedTokens.get();
    }

    public long kvStoreReadBytes() {
        return kvStoreReadBytes.get();
    }

    public long kvStoreWrittenBytes() {
        return kvStoreWrittenBytes.get();
    }

    /** Finished caches written to the store (payload and index). */
    public long kvStoreStores() {
        return kvStoreStores.get();
    }

    public long kvStoreSkipped() {
        return kvStoreSkipped.get();
    }

    public double kvStoreLoadSeconds() {
        return kvStoreLoadNanos.get() / 1e9;
    }

    public double kvStoreStoreSeconds() {
        return kvStoreStoreNanos.get() / 1e9;
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
        summary(sb, "think4j_time_to_first_token_seconds",
                "Time from a request's arrival to its first generated token (quantiles over the last 4096 requests)", firstToken);
        summary(sb, "think4j_inter_token_latency_seconds",
                "Time between consecutive generated tokens of one sequence (quantiles over the last 65536)", interToken);
        counter(sb, "think4j_decode_seconds_total", "Seconds spent in batched decode forwards", decodeSeconds());
        counter(sb, "think4j_prefill_seconds_total", "Seconds spent in prefill forwards", prefillSeconds());
        counter(sb, "think4j_prefill_tokens_total", "Prompt tokens run through the model (cached prefixes excluded)", prefillTokens());
        if (kvStore != null) {
            counter(sb, "think4j_kv_store_hits_total", "Requests that started from a cache loaded from the shared kv store ("
                    + kvStore + ")", kvStoreHits.get());
            counter(sb, "think4j_kv_store_misses_total", "Lookups in the shared kv store that found no usable cache",
                    kvStoreMisses.get());
            counter(sb, "think4j_kv_store_errors_total", "Failed kv store reads, writes and loads (requests were prefilled instead)",
                    kvStoreErrors.get());
            counter(sb, "think4j_kv_store_reused_tokens_total", "Prompt tokens served from caches loaded from the kv store",
                    kvStoreReusedTokens.get());
            counter(sb, "think4j_kv_store_read_bytes_total", "Bytes read from the kv store", kvStoreReadBytes.get());
            counter(sb, "think4j_kv_store_written_bytes_total", "Bytes written to the kv store", kvStoreWrittenBytes.get());
            counter(sb, "think4j_kv_store_stores_total", "Finished caches written to the kv store", kvStoreStores.get());
            counter(sb, "think4j_kv_store_skipped_total", "Finished caches not written (writer behind, or too large)",
                    kvStoreSkipped.get());
            counter(sb, "think4j_kv_store_load_seconds_total", "Seconds spent looking up, reading and decoding stored caches",
                    kvStoreLoadSeconds());
            counter(sb, "think4j_kv_store_store_seconds_total", "Seconds spent encoding and writing finished caches",
                    kvStoreStoreSeconds());
        }
        gauge(sb, "think4j_scheduler_up", "1 while the scheduler loop runs", schedulerUp ? 1 : 0);
        sb.append("# HELP think4j_requests_total HTTP requests by response status\n");
        sb.append("# TYPE think4j_requests_total counter\n");
        synchronized (requestsByStatus) {
            requestsByStatus.forEach((status, n) ->
                    sb.append("think4j_requests_total{status=\"").append(status).append("\"} ").append(n.get()).append('\n'));
        }
        return sb.toString();
    }

    private static void summary(StringBuilder sb, String name, String help, LatencyWindow w) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" summary\n");
        double[] q = w.quantiles(QUANTILES);
        for (int i = 0; i < q.length; i++) {
            sb.append(name).append("{quantile=\"").append(QUANTILES[i]).append("\"} ").append(number(q[i])).append('\n');
        }
        sb.append(name).append("_sum ").append(number(w.sum())).append('\n');
        sb.append(name).append("_count ").append(w.count()).append('\n');
    }

    private static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
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
