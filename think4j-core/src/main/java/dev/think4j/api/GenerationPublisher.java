package dev.think4j.api;

import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A cold, single-use publisher: generation starts on its own thread when the subscriber arrives,
 * waits while the subscriber's buffer is full (demand drives it), and stops soon after a cancel.
 */
final class GenerationPublisher implements Flow.Publisher<GenerationEvent> {
    interface Job {
        Generation run(Consumer<GenerationEvent> sink, BooleanSupplier cancelled);
    }

    private final Job job;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    GenerationPublisher(Job job) {
        this.job = job;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super GenerationEvent> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (!subscribed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(new IllegalStateException("this publisher runs one generation and already has its subscriber"));
            return;
        }
        SubmissionPublisher<GenerationEvent> out = new SubmissionPublisher<>();
        out.subscribe(subscriber);
        Thread.ofPlatform().daemon().name("think4j-generation").start(() -> {
            try {
                job.run(out::submit, () -> out.getNumberOfSubscribers() == 0);
                out.close();
            } catch (Throwable t) {
                out.closeExceptionally(t);
            }
        });
    }
}
