package dev.think4j.server;

import dev.think4j.generate.StopReason;
import dev.think4j.generate.TokenStepper;
import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.KvSpec;
import dev.think4j.model.Model;
import dev.think4j.model.Transformer;
import dev.think4j.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching on one thread. Each iteration admits queued sequences whose KV upper bound fits
 * the budget, runs one {@link Transformer#forwardBatch} decode step over every decoding sequence (in
 * chunks of maxBatch), then feeds at most one prefill chunk's worth of prompt tokens, oldest prompt
 * first: a long prompt goes in chunk by chunk, several short ones share one chunk. That bounds how
 * long new prompts hold up the streams already running, and lets a burst of short requests start
 * streaming after a few iterations instead of one iteration per request.
 * Admission reserves the dense bound (prompt + max_tokens) because a prefill is dense until
 * compression; after {@code endPrefill()} the reservation shrinks to the measured cache bytes plus the
 * dense decode growth, which is why compressed specs fit more sequences into the same budget.
 *
 * <p>A failure ends only the sequence it belongs to (a failed batched forward ends that batch, since it
 * cannot say which row broke); the loop goes on. Only repeated failures outside any sequence kill the
 * thread, and then {@link #failure()} says so.
 */
public final class Scheduler implements AutoCloseable {
    /** Prompt tokens fed between two decode steps unless told otherwise. */
    public static final int DEFAULT_PREFILL_CHUNK = 256;
    /** What 503 and 429 answers suggest as Retry-After. */
    static final int RETRY_AFTER_SECONDS = 5;
    /** Loop iterations in a row that may fail outside a sequence before the scheduler gives up. */
    private static final int MAX_CONSECUTIVE_FAILURES = 3;
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private enum State { RUNNING, DRAINING, STOPPED }

    private final Model model;
    private final Tokenizer tokenizer;
    private final Transformer transformer;
    private final int maxBatch;
    private final int maxQueue;
    private final int contextLength;
    private final int prefillChunk;
    private final long denseBytesPerToken;
    private final KvBudget budget;
    private final PrefixCache prefixes;
    /** Caches shared with other replicas, or null. */
    private final KvShare share;
    private final Metrics metrics;
    private final Object lock = new Object();
    private final ArrayDeque<SequenceHandle> queue = new ArrayDeque<>();
    /** Admitted sequences whose prompt is still being fed, oldest first. */
    private final List<Sequence> prefilling = new ArrayList<>();
    /** Sequences being decoded. */
    private final List<Sequence> active = new ArrayList<>();
    private final Thread thread;
    private volatile State state = State.RUNNING;
    /** Why the loop died, or null. */
    private volatile Throwable death;
    /** Set by {@link #abortInFlight}, applied by the scheduler thread (the only owner of caches). */
    private volatile ApiException abortWith;
    /** Set by {@link #clearPrefixCache()}, applied by the scheduler thread. */
    private volatile boolean clearPrefixes;
    /** Work on the prefix cache from other threads (the /slots endpoints), run by the scheduler thread. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> tasks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Prefilling plus decoding sequences as of the last publish or admission (for {@link #awaitIdle}); under lock. */
    private int inFlight;
    private volatile SchedulerHooks hooks = SchedulerHooks.NONE;
    /** End-of-generation ids masked before sampling (benchmarks run every sequence to max_tokens), or null. */
    private volatile int[] maskedEos;
    /** Tokens produced in the current step (for the throughput gauge). */
    private int stepTokens;

    public Scheduler(Model model, Tokenizer tokenizer, long kvBudget, int maxBatch, int maxQueue, int contextLength,
                     int prefixEntries, Metrics metrics) {
        this(model, tokenizer, kvBudget, maxBatch, maxQueue, contextLength, prefixEntries, DEFAULT_PREFILL_CHUNK, metrics);
    }

    /**
     * @param prefillChunk prompt tokens fed between two decode steps; rounded up to a multiple of the
     *                     forward chunk so a prompt goes through the same forward calls as in one piece
     */
    public Scheduler(Model model, Tokenizer tokenizer, long kvBudget, int maxBatch, int maxQueue, int contextLength,
                     int prefixEntries, int prefillChunk, Metrics metrics) {
        this(model, tokenizer, kvBudget, maxBatch, maxQueue, contextLength, prefixEntries, prefillChunk, metrics, null);
    }

    /** @param share caches shared with other replicas (looked up before queueing, offered when finished), or null */
    Scheduler(Model model, Tokenizer tokenizer, long kvBudget, int maxBatch, int maxQueue, int contextLength,
              int prefixEntries, int prefillChunk, Metrics metrics, KvShare share) {
        if (maxBatch < 1 || maxQueue < 0 || prefillChunk < 1) {
            throw new IllegalArgumentException("maxBatch and prefillChunk must be >= 1 and maxQueue >= 0");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.contextLength = contextLength;
        // One transformer serves prefill chunks and decode batches, so its chunk covers both.
        this.transformer = model.newTransformer(Math.max(64, maxBatch), contextLength);
        int unit = transformer.chunkSize();
        this.prefillChunk = (int) Math.min(Integer.MAX_VALUE, ((long) prefillChunk + unit - 1) / unit * unit);
        this.denseBytesPerToken = model.kvShape().denseBytesPerToken();
        this.budget = new KvBudget(kvBudget);
        this.share = share;
        this.prefixes = new PrefixCache(prefixEntries, budget, share == null ? null : share.heldLocally());
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

    /** Prompt tokens fed between two decode steps (after rounding). */
    public int prefillChunk() {
        return prefillChunk;
    }

    /** The dense upper bound of a request's KV: what admission reserves while it prefills. */
    public long denseBound(int promptTokens, int maxTokens) {
        return growthBound(0, promptTokens + maxTokens);
    }

    /**
     * The most a cache of {@code from} tokens can grow by reaching {@code to} tokens at full width: sliding-window
     * layers (gemma3) stop growing at their window, so this is less than (to - from) dense tokens there.
     */
    long growthBound(int from, int to) {
        return model.kvShape().denseBytes(to) - model.kvShape().denseBytes(from);
    }

    /** Benchmarks: never sample an end-of-generation token, as llama.cpp's --ignore-eos. */
    void ignoreEos(boolean ignore) {
        maskedEos = ignore ? java.util.stream.IntStream.range(0, model.config().vocabSize()).filter(tokenizer::isEndOfGeneration)
                .toArray() : null;
    }

    /** Installs test hooks (package-private: tests only). */
    void hooks(SchedulerHooks h) {
        hooks = h == null ? SchedulerHooks.NONE : h;
    }

    /** Why the scheduler thread stopped working, or null while it works (also null after a requested close). */
    public Throwable failure() {
        Throwable d = death;
        if (d == null && state != State.STOPPED && !thread.isAlive()) {
            return new IllegalStateException("the scheduler thread ended unexpectedly");
        }
        return d;
    }

    /** True from {@link #drain()} or {@link #close()} on. */
    public boolean draining() {
        return state != State.RUNNING;
    }

    /**
     * Queues a request. Throws a 400 when it can never fit the budget, a 429 when the queue is full
     * and a 503 when the server is shutting down or broken; all leave the running sequences untouched.
     */
    public SequenceHandle submit(GenerationRequest request) {
        long bound = denseBound(request.promptIds().length, request.maxTokens());
        if (bound > budget.capacity()) {
            throw ApiException.invalid("this request needs up to " + bound + " bytes of KV cache (" + request.promptIds().length
                    + " prompt + " + request.maxTokens() + " max_tokens tokens, uncompressed) but the server's --kv-budget is "
                    + budget.capacity()
                    + " bytes; lower max_tokens or shorten the prompt", "max_tokens", "kv_budget_exceeded");
        }
        SequenceHandle handle = new SequenceHandle(request);
        if (share != null && state == State.RUNNING) {
            // on this (request) thread: the network round trips and the decoding never hold up the running streams
            handle.restored(share.lookup(request.kvSpec(), request.promptIds()));
        }
        try {
            synchronized (lock) {
                Throwable broken = failure();
                if (broken != null) {
                    throw dead(broken);
                }
                if (state != State.RUNNING) {
                    throw shuttingDown();
                }
                if (queue.size() >= maxQueue) {
                    throw new ApiException(429, "rate_limit_error", "the server is busy: " + queue.size()
                            + " requests are already waiting (--max-queue " + maxQueue + "); retry later", null, "queue_full", 1);
                }
                queue.addLast(handle);
                lock.notifyAll();
            }
        } catch (RuntimeException e) {
            handle.discardRestored();
            throw e;
        }
        return handle;
    }

    static ApiException shuttingDown() {
        return new ApiException(503, "server_error", "the server is shutting down; retry on another instance or later", null,
                "shutting_down", RETRY_AFTER_SECONDS);
    }

    static ApiException dead(Throwable cause) {
        return new ApiException(503, "server_error", "the server's scheduler has failed (" + cause
                + "); it needs a restart", null, "scheduler_failed", RETRY_AFTER_SECONDS);
    }

    /** A finished sequence's cache kept for reuse (a "slot" of the /slots endpoints). */
    public record Slot(long id, String kvSpec, int tokens, long bytes) {
    }

    /** How long a caller waits for the scheduler thread to take its turn: one decode step plus one prefill chunk. */
    private static final java.time.Duration TASK_WAIT = java.time.Duration.ofSeconds(30);

    /**
     * Runs {@code work} on the scheduler thread, the only owner of caches, between two steps, and
     * returns its result; its ApiExceptions reach the caller as they are.
     */
    private <T> T onSchedulerThread(java.util.function.Supplier<T> work) {
        Throwable failure = death;
        if (failure != null) {
            throw dead(failure);
        }
        if (state == State.STOPPED) {
            throw shuttingDown();
        }
        java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        tasks.add(() -> {
            try {
                result.complete(work.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        wake();
        try {
            return result.get(TASK_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw ApiException.internal("slot operation failed: " + e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ApiException(503, "server_error", "the scheduler did not take the slot operation within "
                    + TASK_WAIT.toSeconds() + " s", null, "busy", RETRY_AFTER_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw shuttingDown();
        }
    }

    /** The caches kept for prefix reuse, most recently used first. */
    public java.util.List<Slot> slots() {
        return onSchedulerThread(() -> prefixes.newestFirst().stream()
                .map(e -> new Slot(e.key(), e.spec(), e.ids().length, e.bytes())).toList());
    }

    static ApiException noSlot(long id) {
        return new ApiException(404, "invalid_request_error", "no slot " + id + " (GET /slots lists the cached sequences)",
                "id", "slot_not_found");
    }

    /** Session-file bytes of one kept cache (see dev.think4j.kv.session.SessionFiles), encoded on the scheduler thread. */
    public byte[] saveSlot(long id) {
        return onSchedulerThread(() -> {
            PrefixCache.Entry e = prefixes.get(id);
            if (e == null) {
                throw noSlot(id);
            }
            return dev.think4j.kv.session.SessionFiles.toBytes(model, e.cache(), e.ids());
        });
    }

    /**
     * Keeps a restored cache for prefix reuse, replacing slot {@code replace} if it exists: the next
     * request whose prompt extends {@code ids} (with the same kv spec) skips their prefill. The cache
     * is freed when it does not fit the KV budget next to the running sequences (a 503).
     */
    public Slot restoreSlot(long replace, int[] ids, dev.think4j.kv.CompressedKvCache cache) {
        if (ids.length > contextLength) {
            cache.clear();
            throw ApiException.invalid("the session holds " + ids.length + " tokens but the server's context is "
                    + contextLength, "filename", "context_length_exceeded");
        }
        return onSchedulerThread(() -> {
            prefixes.remove(replace);
            String spec = cache.policy().spec();
            PrefixCache.Entry e = prefixes.put(spec, ids, cache);
            if (e == null) {
                throw new ApiException(503, "server_error", "the restored cache does not fit the KV budget next to the running "
                        + "sequences" + (ids.length == 0 ? " (it is empty)" : "") + ", or prefix reuse is off (--prefix-cache 0)",
                        null, "kv_budget_exceeded", RETRY_AFTER_SECONDS);
            }
            return new Slot(e.key(), e.spec(), e.ids().length, e.bytes());
        });
    }

    /** Frees one kept cache; returns what it held. */
    public Slot eraseSlot(long id) {
        return onSchedulerThread(() -> {
            PrefixCache.Entry e = prefixes.get(id);
            if (e == null) {
                throw noSlot(id);
            }
            Slot s = new Slot(e.key(), e.spec(), e.ids().length, e.bytes());
            prefixes.remove(id);
            return s;
        });
    }

    /** Drops every cached prefix (applied before the next scheduling step). */
    public void clearPrefixCache() {
        clearPrefixes = true;
        wake();
    }

    /**
     * Stops admitting: queued requests and later submissions get a 503 with Retry-After, while
     * sequences already admitted keep running (see {@link #awaitIdle} and {@link #abortInFlight}).
     */
    public void drain() {
        synchronized (lock) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.DRAINING;
            ApiException gone = shuttingDown();
            for (SequenceHandle h : queue) {
                h.post(new SequenceHandle.Failed(gone));
            }
            queue.clear();
            lock.notifyAll();
        }
    }

    /** Waits until nothing is queued, prefilling or decoding; false when {@code timeout} passed first. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (inFlight > 0 || !queue.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
        }
        return true;
    }

    /** Ends every admitted sequence with {@code error} at the next iteration (their caches are freed). */
    public void abortInFlight(ApiException error) {
        abortWith = error;
        wake();
    }

    private void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    private void loop() {
        int failures = 0;
        try {
            while (state != State.STOPPED) {
                try {
                    iterate();
                    failures = 0;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Throwable t) {
                    failures++;
                    // Outside any per-sequence guard nobody can say whose fault it was: end what is in flight.
                    LOG.error("scheduler iteration failed ({} in a row); failing {} in-flight sequences", failures,
                            prefilling.size() + active.size(), t);
                    failInFlight(ApiException.internal("the server failed while generating this request: " + t));
                    if (failures >= MAX_CONSECUTIVE_FAILURES) {
                        death = t;
                        LOG.error("scheduler gave up after {} failed iterations in a row; /health now reports it", failures);
                        return;
                    }
                }
            }
        } catch (Throwable t) {
            death = t;
            LOG.error("scheduler thread failed", t);
        } finally {
            shutdownAll();
        }
    }

    private void iterate() throws InterruptedException {
        hooks.iteration();
        if (clearPrefixes) {
            clearPrefixes = false;
            prefixes.clear();
        }
        for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
            task.run();
        }
        ApiException abort = abortWith;
        if (abort != null) {
            abortWith = null;
            failInFlight(abort);
        }
        admit();
        dropCancelledPrefills();
        publish();
        if (active.isEmpty() && prefilling.isEmpty()) {
            synchronized (lock) {
                while (state != State.STOPPED && queue.isEmpty() && !clearPrefixes && abortWith == null && tasks.isEmpty()) {
                    lock.wait();
                }
            }
            return;
        }
        if (!active.isEmpty()) {
            step();
        }
        prefill();
        publish();
    }

    /** Admits queued sequences in arrival order while the head fits; their prompts are fed later, chunk by chunk. */
    private void admit() {
        while (state == State.RUNNING) {
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
            long reserved = 0;
            try {
                GenerationRequest r = head.request();
                PrefixCache.Entry hit = prefixes.longestPrefix(r.kvSpec(), r.promptIds());
                KvShare.Restored remote = head.peekRestored();
                if (remote != null) {
                    if (hit != null && hit.ids().length >= remote.ids().length) {
                        head.discardRestored(); // this server's own cache reaches as far: no need for the loaded one
                        remote = null;
                    } else {
                        hit = null;
                    }
                }
                long need = remote != null ? reservationFor(r, remote) : reservationFor(r, hit);
                while (!budget.tryReserve(need)) {
                    if (!prefixes.evictOldest(hit)) {
                        boolean idle = active.isEmpty() && prefilling.isEmpty();
                        if (hit != null && idle) {
                            // Even the reusable prefix is in the way of an otherwise idle server: start fresh.
                            prefixes.evictOldest(null);
                            hit = null;
                            need = reservationFor(r, (PrefixCache.Entry) null);
                            continue;
                        }
                        if (remote != null && idle) {
                            head.discardRestored();
                            remote = null;
                            need = reservationFor(r, (PrefixCache.Entry) null);
                            continue;
                        }
                        return; // wait for running sequences to finish
                    }
                }
                reserved = need;
                synchronized (lock) {
                    // drain() may have emptied the queue (and failed the head) since we peeked.
                    if (queue.peekFirst() != head) {
                        budget.release(reserved);
                        continue;
                    }
                    queue.pollFirst();
                    // Counted before it leaves the lock, so awaitIdle never sees it neither queued nor in flight.
                    inFlight++;
                }
                start(head, hit, remote != null, need);
            } catch (RuntimeException | Error e) {
                synchronized (lock) {
                    queue.remove(head);
                }
                if (reserved > 0) {
                    budget.release(reserved);
                }
                LOG.warn("could not start a sequence", e);
                metrics.sequenceFailed();
                head.post(new SequenceHandle.Failed(ApiException.internal("could not start this request: " + e)));
            }
        }
    }

    private long reservationFor(GenerationRequest r, PrefixCache.Entry hit) {
        if (hit == null) {
            return denseBound(r.promptIds().length, r.maxTokens());
        }
        return hit.bytes() + growthBound(hit.ids().length, r.promptIds().length + r.maxTokens());
    }

    private long reservationFor(GenerationRequest r, KvShare.Restored remote) {
        return remote.cache().bytes() + growthBound(remote.ids().length, r.promptIds().length + r.maxTokens());
    }

    /** Gives an admitted request its cache; on failure the cache is freed and the caller releases the reservation. */
    private void start(SequenceHandle handle, PrefixCache.Entry hit, boolean remote, long reservation) {
        GenerationRequest r = handle.request();
        CompressedKvCache cache = null;
        try {
            int[] cached;
            if (remote) {
                KvShare.Restored restored = handle.takeRestored();
                if (restored == null) {
                    throw new IllegalStateException("the cache loaded from the kv store was freed before admission");
                }
                cached = restored.ids();
                cache = restored.cache();
                metrics.kvStoreHit(cached.length);
            } else if (hit != null) {
                cached = hit.ids();
                cache = prefixes.take(hit);
            } else {
                cached = new int[0];
                cache = model.newCache(KvSpec.parse(r.kvSpec()));
            }
            TokenStepper stepper = new TokenStepper(tokenizer, r.sampler(), r.stops(), r.stopTokens(), r.maxTokens());
            if (r.logprobs() >= 0) {
                stepper.withLogprobs(r.logprobs());
            }
            prefilling.add(new Sequence(handle, cache, cached, stepper, model.config().vocabSize(), reservation));
        } catch (RuntimeException | Error e) {
            if (cache != null) {
                cache.clear();
            }
            throw e;
        }
    }

    /** A client that left while its prompt waits for prefill frees its cache now, not when its turn comes. */
    private void dropCancelledPrefills() {
        for (Iterator<Sequence> it = prefilling.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.handle.cancelled()) {
                it.remove();
                end(s, StopReason.CANCELLED);
            }
        }
    }

    /**
     * Feeds up to {@code prefillChunk} prompt tokens, oldest prompt first. A prompt's pieces start at
     * multiples of the forward chunk (unless it resumes after a cached prefix), so it goes through
     * the same forward calls as in one piece; a prompt finished here moves to decoding.
     */
    private void prefill() {
        int unit = transformer.chunkSize();
        int left = prefillChunk;
        while (left > 0 && !prefilling.isEmpty()) {
            Sequence s = prefilling.getFirst();
            int remaining = s.request().promptIds().length - s.prefilled;
            int n = remaining <= left ? remaining : left / unit * unit;
            if (n == 0) {
                return;
            }
            left -= n;
            prefillPiece(s, n);
        }
    }

    private void prefillPiece(Sequence s, int n) {
        GenerationRequest r = s.request();
        int[] prompt = r.promptIds();
        int from = s.prefilled;
        boolean last = from + n == prompt.length;
        try {
            hooks.beforePrefillChunk(r, from, n);
            long t0 = System.nanoTime();
            transformer.forward(prompt, from, n, s.cache, last ? s.logits : null, null);
            metrics.prefilled(n, System.nanoTime() - t0);
            s.recordFed(prompt, from, n);
            s.prefilled += n;
            if (!last) {
                return;
            }
            s.cache.endPrefill();
            long shrunk = s.cache.bytes() + growthBound(prompt.length, prompt.length + r.maxTokens());
            if (shrunk < s.reservation) {
                budget.adjust(s.reservation, shrunk);
                s.reservation = shrunk;
            }
            prefilling.removeFirst();
            metrics.prompt(prompt.length, s.reusedPrefix);
            active.add(s);
        } catch (RuntimeException | Error e) {
            prefilling.remove(s);
            sequenceFailed(s, "prefill", e);
        }
    }

    /** Samples one token for every decoding sequence, retires the finished, feeds the rest as one batch. */
    private void step() {
        stepTokens = 0;
        List<Sequence> feed = new ArrayList<>(active.size());
        for (Iterator<Sequence> it = active.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            StopReason end;
            try {
                end = sampleOne(s);
            } catch (RuntimeException | Error e) {
                it.remove();
                sequenceFailed(s, "sampling", e);
                continue;
            }
            if (end == null) {
                feed.add(s);
            } else {
                it.remove();
                end(s, end);
            }
        }
        int vocab = model.config().vocabSize();
        for (int from = 0; from < feed.size(); from += maxBatch) {
            List<Sequence> batch = feed.subList(from, Math.min(feed.size(), from + maxBatch));
            int n = batch.size();
            int[] tokens = new int[n];
            CompressedKvCache[] caches = new CompressedKvCache[n];
            List<GenerationRequest> requests = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                tokens[i] = batch.get(i).pending;
                caches[i] = batch.get(i).cache;
                requests.add(batch.get(i).request());
            }
            float[] logits = new float[n * vocab];
            try {
                hooks.beforeDecodeBatch(requests);
                long t0 = System.nanoTime();
                transformer.forwardBatch(tokens, caches, logits);
                metrics.decodeStep(n, System.nanoTime() - t0);
            } catch (RuntimeException | Error e) {
                // One forward computed every row: no telling whose input broke it, so the whole batch ends.
                for (Sequence s : batch) {
                    active.remove(s);
                    sequenceFailed(s, "batched decode", e);
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
        hooks.beforeSample(s.request(), s.stepper.produced());
        // NaN weights fail this sequence with a clear message instead of sampling garbage
        dev.think4j.generate.Logits.requireFinite(s.logits, 0, s.logits.length, s.fedLength);
        int[] masked = maskedEos;
        if (masked != null) {
            for (int id : masked) {
                s.logits[id] = Float.NEGATIVE_INFINITY;
            }
        }
        int before = s.stepper.produced();
        StopReason reason = s.stepper.step(s.logits, s.fed, s.fedLength, s.fedLength, contextLength,
                text -> s.handle.post(new SequenceHandle.Text(text, s.stepper.drainLogprobs())));
        if (s.stepper.produced() > before) {
            long now = System.nanoTime();
            if (s.lastTokenAt == 0) {
                metrics.firstToken(now - s.handle.queuedAt);
            } else {
                metrics.interToken(now - s.lastTokenAt);
            }
            s.lastTokenAt = now;
        }
        stepTokens += s.stepper.produced() - before;
        if (reason == null) {
            s.pending = s.stepper.token();
        }
        return reason;
    }

    /** Ends a sequence that left the scheduler's lists; a failure while ending it fails it instead. */
    private void end(Sequence s, StopReason reason) {
        try {
            finish(s, reason);
        } catch (RuntimeException | Error e) {
            sequenceFailed(s, "finishing", e);
        }
    }

    private void finish(Sequence s, StopReason reason) {
        // after a stop string nothing more is shown; its own tokens count as produced, as OpenAI counts them
        if (reason != StopReason.CANCELLED) {
            s.stepper.finish(reason, text -> s.handle.post(new SequenceHandle.Text(text, s.stepper.drainLogprobs())));
            // tokens whose text never went out (a stop string's own) still report their log-probs
            java.util.List<dev.think4j.generate.TokenLogprobs> rest = s.stepper.drainLogprobs();
            if (!rest.isEmpty()) {
                s.handle.post(new SequenceHandle.Text("", rest));
            }
        }
        budget.release(s.reservation);
        s.reservation = 0;
        s.handle.post(new SequenceHandle.Finished(reason, s.request().promptIds().length, s.stepper.produced(), s.reusedPrefix));
        if (reason == StopReason.CANCELLED) {
            // The client is gone: free the KV now rather than keep a prefix nobody asked for.
            s.cache.clear();
            return;
        }
        int[] fed = s.fedIds();
        String sharedKey = null;
        if (share != null) {
            try {
                sharedKey = share.offer(s.request().kvSpec(), fed, s.cache);
            } catch (RuntimeException e) {
                metrics.kvStoreError();
                LOG.warn("could not encode a finished cache for the kv store", e);
            }
        }
        try {
            prefixes.put(s.request().kvSpec(), fed, s.cache, sharedKey);
        } catch (RuntimeException | Error e) {
            // The answer is complete; losing the reusable prefix only costs a later prefill.
            LOG.warn("could not keep a finished cache for prefix reuse", e);
        }
    }

    private void sequenceFailed(Sequence s, String during, Throwable e) {
        LOG.warn("a sequence failed during {}; ending it alone", during, e);
        metrics.sequenceFailed();
        fail(s, ApiException.internal(during + " failed: " + e));
    }

    /** Releases what {@code s} holds and ends it with {@code error}; never throws. */
    private void fail(Sequence s, ApiException error) {
        if (s.reservation > 0) {
            budget.release(s.reservation);
            s.reservation = 0;
        }
        try {
            s.cache.clear();
        } catch (RuntimeException | Error e) {
            LOG.warn("could not free a failed sequence's cache", e);
        }
        s.handle.post(new SequenceHandle.Failed(error));
    }

    private void failInFlight(ApiException error) {
        for (Sequence s : prefilling) {
            fail(s, error);
        }
        for (Sequence s : active) {
            fail(s, error);
        }
        prefilling.clear();
        active.clear();
    }

    private void publish() {
        long inUse = 0;
        for (Sequence s : prefilling) {
            inUse += s.cache.bytes();
        }
        for (Sequence s : active) {
            inUse += s.cache.bytes();
        }
        int queued;
        synchronized (lock) {
            queued = queue.size();
            inFlight = prefilling.size() + active.size();
            lock.notifyAll();
        }
        metrics.gauges(inUse, budget.reserved(), budget.prefixBytes(), prefixes.size(), active.size() + prefilling.size(),
                prefilling.size(), queued);
    }

    /** The loop ended (close, or death): nothing queued or in flight may be left without an answer. */
    private void shutdownAll() {
        Throwable broken = death;
        ApiException gone = broken != null ? dead(broken) : shuttingDown();
        synchronized (lock) {
            state = State.STOPPED;
            for (SequenceHandle h : queue) {
                h.post(new SequenceHandle.Failed(gone));
            }
            queue.clear();
            lock.notifyAll();
        }
        failInFlight(gone);
        try {
            prefixes.clear();
        } catch (RuntimeException | Error e) {
            LOG.warn("could not free the prefix cache", e);
        }
        try {
            publish();
        } catch (RuntimeException | Error e) {
            LOG.warn("could not publish final gauges", e);
        }
        metrics.schedulerUp(false);
    }

    @Override
    public void close() {
        synchronized (lock) {
            state = State.STOPPED;
            lock.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
