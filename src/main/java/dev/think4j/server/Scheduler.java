package dev.think4j.server;

import dev.think4j.generate.StopReason;
import dev.think4j.generate.TokenStepper;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Continuous batching on one thread. Between decode steps it admits queued sequences whose KV
 * upper bound fits the budget, prefills them, then runs one {@link Transformer#forwardBatch} step
 * over every active sequence (in chunks of maxBatch). Admission reserves the dense bound
 * (prompt + max_tokens) because a prefill is dense until compression; after {@code endPrefill()}
 * the reservation shrinks to the measured cache bytes plus the dense decode growth, which is why
 * compressed specs fit more sequences into the same budget.
 */
public final class Scheduler implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;
    private final Transformer transformer;
    private final int maxBatch;
    private final int maxQueue;
    private final int contextLength;
    private final long denseBytesPerToken;
    private final KvBudget budget;
    private final PrefixCache prefixes;
    private final Metrics metrics;
    private final Object lock = new Object();
    private final ArrayDeque<SequenceHandle> queue = new ArrayDeque<>();
    private final List<Sequence> active = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    /** Set by {@link #clearPrefixCache()}, applied by the scheduler thread (the only owner of caches). */
    private volatile boolean clearPrefixes;
    /** Tokens produced in the current step (for the throughput gauge). */
    private int stepTokens;

    public Scheduler(Model model, Tokenizer tokenizer, long kvBudget, int maxBatch, int maxQueue, int contextLength,
                     int prefixEntries, Metrics metrics) {
        if (maxBatch < 1 || maxQueue < 0) {
            throw new IllegalArgumentException("maxBatch must be >= 1 and maxQueue >= 0");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.contextLength = contextLength;
        // One transformer serves prefill chunks and decode batches, so its chunk covers both.
        this.transformer = model.newTransformer(Math.max(64, maxBatch));
        this.denseBytesPerToken = model.kvShape().denseBytesPerToken();
        this.budget = new KvBudget(kvBudget);
        this.prefixes = new PrefixCache(prefixEntries, budget);
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("think4j-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    public int contextLength() {
        return contextLength;
    }

    public long denseBytesPerToken() {
        return denseBytesPerToken;
    }

    public long kvBudget() {
        return budget.capacity();
    }

    /** The dense upper bound of a request's KV: what admission reserves while it prefills. */
    public long denseBound(int promptTokens, int maxTokens) {
        return (long) (promptTokens + maxTokens) * denseBytesPerToken;
    }

    /**
     * Queues a request. Throws a 400 when it can never fit the budget and a 429 when the queue is
     * full; both leave the running sequences untouched.
     */
    public SequenceHandle submit(GenerationRequest request) {
        long bound = denseBound(request.promptIds().length, request.maxTokens());
        if (bound > budget.capacity()) {
            throw ApiException.invalid("this request needs up to " + bound + " bytes of KV cache (" + request.promptIds().length
                    + " prompt + " + request.maxTokens() + " max_tokens tokens at " + denseBytesPerToken
                    + " dense bytes each) but the server's --kv-budget is " + budget.capacity()
                    + " bytes; lower max_tokens or shorten the prompt", "max_tokens", "kv_budget_exceeded");
        }
        SequenceHandle handle = new SequenceHandle(request);
        synchronized (lock) {
            if (!running) {
                throw new ApiException(503, "server_error", "the server is shutting down", null, "shutting_down");
            }
            if (queue.size() >= maxQueue) {
                throw new ApiException(429, "rate_limit_error", "the server is busy: " + queue.size()
                        + " requests are already waiting (--max-queue " + maxQueue + "); retry later", null, "queue_full");
            }
            queue.addLast(handle);
            lock.notifyAll();
        }
        return handle;
    }

    /** Drops every cached prefix (applied before the next scheduling step). */
    public void clearPrefixCache() {
        clearPrefixes = true;
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    private void loop() {
        try {
            while (running) {
                if (clearPrefixes) {
                    clearPrefixes = false;
                    prefixes.clear();
                }
                admit();
                publish();
                if (active.isEmpty()) {
                    synchronized (lock) {
                        while (running && queue.isEmpty() && !clearPrefixes) {
                            lock.wait();
                        }
                    }
                    continue;
                }
                step();
                publish();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            shutdownAll();
        }
    }

    /** Admits queued sequences in arrival order while the head fits; prefills each as it is admitted. */
    private void admit() {
        while (running) {
            SequenceHandle head;
            synchronized (lock) {
                queue.removeIf(h -> {
                    if (h.cancelled()) {
                        h.post(new SequenceHandle.Finished(StopReason.CANCELLED, h.request().promptIds().length, 0, 0));
                        return true;
                    }
                    return false;
                });
                head = queue.peekFirst();
            }
            if (head == null) {
                return;
            }
            GenerationRequest r = head.request();
            PrefixCache.Entry hit = prefixes.longestPrefix(r.kvSpec(), r.promptIds());
            long need = reservationFor(r, hit);
            while (!budget.tryReserve(need)) {
                if (!prefixes.evictOldest(hit)) {
                    if (hit != null && active.isEmpty()) {
                        // Even the reusable prefix is in the way of an otherwise idle server: start fresh.
                        prefixes.evictOldest(null);
                        hit = null;
                        need = reservationFor(r, null);
                        continue;
                    }
                    return; // wait for running sequences to finish
                }
            }
            synchronized (lock) {
                queue.pollFirst();
            }
            start(head, hit, need);
        }
    }

    private long reservationFor(GenerationRequest r, PrefixCache.Entry hit) {
        if (hit == null) {
            return denseBound(r.promptIds().length, r.maxTokens());
        }
        return hit.bytes() + denseBound(r.promptIds().length - hit.ids().length, r.maxTokens());
    }

    private void start(SequenceHandle handle, PrefixCache.Entry hit, long reservation) {
        GenerationRequest r = handle.request();
        CompressedKvCache cache;
        int[] cached;
        if (hit != null) {
            cached = hit.ids();
            cache = prefixes.take(hit);
        } else {
            cached = new int[0];
            cache = model.newCache(KvSpec.parse(r.kvSpec()));
        }
        Sequence s = new Sequence(handle, cache, cached,
                new TokenStepper(tokenizer, r.sampler(), r.stops(), r.stopTokens(), r.maxTokens()), model.config().vocabSize(), reservation);
        try {
            int[] prompt = r.promptIds();
            int from = cached.length;
            transformer.forward(prompt, from, prompt.length - from, cache, s.logits, null);
            s.recordFed(prompt, from, prompt.length - from);
            cache.endPrefill();
        } catch (RuntimeException e) {
            budget.release(reservation);
            cache.clear();
            handle.post(new SequenceHandle.Failed(new ApiException(500, "server_error", "prefill failed: " + e, null, null)));
            return;
        }
        long shrunk = cache.bytes() + (long) r.maxTokens() * denseBytesPerToken;
        if (shrunk < reservation) {
            budget.adjust(reservation, shrunk);
            s.reservation = shrunk;
        }
        metrics.prompt(r.promptIds().length, cached.length);
        active.add(s);
    }

    /** Samples one token for every active sequence, retires the finished, feeds the rest as one batch. */
    private void step() {
        stepTokens = 0;
        List<Sequence> feed = new ArrayList<>(active.size());
        for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            StopReason end = sampleOne(s);
            if (end != null) {
                it.remove();
                finish(s, end);
            } else {
                feed.add(s);
            }
        }
        int vocab = model.config().vocabSize();
        for (int from = 0; from < feed.size(); from += maxBatch) {
            List<Sequence> batch = feed.subList(from, Math.min(feed.size(), from + maxBatch));
            int n = batch.size();
            int[] tokens = new int[n];
            CompressedKvCache[] caches = new CompressedKvCache[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = batch.get(i).pending;
                caches[i] = batch.get(i).cache;
            }
            float[] logits = new float[n * vocab];
            try {
                transformer.forwardBatch(tokens, caches, logits);
            } catch (RuntimeException e) {
                for (Sequence s : batch) {
                    active.remove(s);
                    fail(s, new ApiException(500, "server_error", "decode failed: " + e, null, null));
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                Sequence s = batch.get(i);
                System.arraycopy(logits, i * vocab, s.logits, 0, vocab);
                s.recordFed(tokens, i, 1);
            }
        }
        metrics.decoded(stepTokens);
    }

    /** One token for {@code s}; returns why it ends, or null when its token should be fed. */
    private StopReason sampleOne(Sequence s) {
        if (s.handle.cancelled()) {
            return StopReason.CANCELLED;
        }
        int before = s.stepper.produced();
        StopReason reason = s.stepper.step(s.logits, s.fed, s.fedLength, s.fedLength, contextLength,
                text -> s.handle.post(new SequenceHandle.Text(text)));
        stepTokens += s.stepper.produced() - before;
        if (reason == null) {
            s.pending = s.stepper.token();
        }
        return reason;
    }

    private void finish(Sequence s, StopReason reason) {
        // after a stop string nothing more is shown; its own tokens count as produced, as OpenAI counts them
        if (reason != StopReason.CANCELLED) {
            s.stepper.finish(reason, text -> s.handle.post(new SequenceHandle.Text(text)));
        }
        budget.release(s.reservation);
        s.reservation = 0;
        if (reason == StopReason.CANCELLED) {
            // The client is gone: free the KV now rather than keep a prefix nobody asked for.
            s.cache.clear();
        } else {
            prefixes.put(s.request().kvSpec(), s.fedIds(), s.cache);
        }
        s.handle.post(new SequenceHandle.Finished(reason, s.request().promptIds().length, s.stepper.produced(), s.reusedPrefix));
    }

    private void fail(Sequence s, ApiException error) {
        budget.release(s.reservation);
        s.reservation = 0;
        s.cache.clear();
        s.handle.post(new SequenceHandle.Failed(error));
    }

    private void publish() {
        long inUse = 0;
        for (Sequence s : active) {
            inUse += s.cache.bytes();
        }
        int queued;
        synchronized (lock) {
            queued = queue.size();
        }
        metrics.gauges(inUse, budget.reserved(), budget.prefixBytes(), prefixes.size(), active.size(), queued);
    }

    private void shutdownAll() {
        ApiException gone = new ApiException(503, "server_error", "the server is shutting down", null, "shutting_down");
        synchronized (lock) {
            running = false;
            for (SequenceHandle h : queue) {
                h.post(new SequenceHandle.Failed(gone));
            }
            queue.clear();
        }
        for (Sequence s : active) {
            fail(s, gone);
        }
        active.clear();
        prefixes.clear();
        publish();
    }

    @Override
    public void close() {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
