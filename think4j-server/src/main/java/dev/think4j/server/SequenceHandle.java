package dev.think4j.server;

import dev.think4j.generate.StopReason;
import dev.think4j.generate.TokenLogprobs;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The caller's side of one queued or running sequence. The scheduler posts events here and never
 * blocks on the network; the HTTP thread drains them at its own pace and cancels on disconnect.
 */
public final class SequenceHandle {
    /** What the scheduler reports, in order: any number of texts, then exactly one end. */
    public sealed interface Event permits Text, Finished, Failed {
    }

    /** Text to send, with the log-probs of the tokens sampled since the previous Text (empty unless asked for). */
    public record Text(String text, List<TokenLogprobs> logprobs) implements Event {
        public Text {
            logprobs = List.copyOf(logprobs);
        }

        public Text(String text) {
            this(text, List.of());
        }
    }

    public record Finished(StopReason reason, int promptTokens, int completionTokens, int reusedPrefixTokens)
            implements Event {
    }

    public record Failed(ApiException error) implements Event {
    }

    private final GenerationRequest request;
    /** When the request was queued: time to first token counts from here. */
    final long queuedAt = System.nanoTime();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;
    /** Set by the first terminal event: whatever path ends a sequence, its caller sees exactly one end. */
    private final AtomicBoolean ended = new AtomicBoolean();
    /** A cache loaded from the shared store for this request, until admission takes it or the request ends. */
    private final AtomicReference<KvShare.Restored> restored = new AtomicReference<>();

    SequenceHandle(GenerationRequest request) {
        this.request = request;
    }

    public GenerationRequest request() {
        return request;
    }

    /** Asks the scheduler to drop the sequence and free its KV at the next step. */
    public void cancel() {
        cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }

    /** Queues an event; text after the end and any second end are dropped (false), so failure paths may overlap. */
    boolean post(Event e) {
        if (e instanceof Text ? ended.get() : !ended.compareAndSet(false, true)) {
            return false;
        }
        if (!(e instanceof Text)) {
            // every way out of the queue posts an end, so a loaded cache nobody took is freed here
            discardRestored();
        }
        events.add(e);
        return true;
    }

    void restored(KvShare.Restored r) {
        restored.set(r);
    }

    /** The loaded cache, still owned by this handle. */
    KvShare.Restored peekRestored() {
        return restored.get();
    }

    /** Takes ownership of the loaded cache (null if there is none or it was discarded). */
    KvShare.Restored takeRestored() {
        return restored.getAndSet(null);
    }

    /** Frees the loaded cache unless it was taken. */
    void discardRestored() {
        KvShare.Restored r = restored.getAndSet(null);
        if (r != null) {
            r.cache().clear();
        }
    }

    /** True once a terminal event was posted. */
    public boolean ended() {
        return ended.get();
    }

    /** The next event, or null after {@code timeoutMillis}. */
    public Event next(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }
}
