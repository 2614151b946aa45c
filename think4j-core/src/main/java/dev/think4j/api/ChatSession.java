package dev.think4j.api;

import dev.think4j.generate.Session;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One conversation with a {@link LocalModel}, rendered with the model's chat template, whose KV
 * cache persists across turns: each {@link #send} computes only the tokens the conversation gained
 * since the previous turn (its compressed prefix is reused, not recomputed). When the new rendering
 * does not extend what the cache holds (the previous reply was cut by a stop string or cancelled, or
 * the tokenizer splits a turn boundary differently) the session starts its cache over, transparently.
 *
 * <p><b>Not thread-safe:</b> one call at a time. A second call while one runs, from another thread or
 * from inside a listener, throws {@link IllegalStateException} instead of corrupting the cache. Different
 * sessions of one model may run on different threads at once.
 *
 * <p>{@link #close()} frees the cache's memory (part of it lives outside the Java heap); afterwards every
 * call throws {@link IllegalStateException}.
 */
public final class ChatSession implements AutoCloseable {
    private final LocalModel owner;
    private final Session session;
    private final List<ChatMessage> messages = new ArrayList<>();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    ChatSession(LocalModel owner, Session session, String systemPrompt) {
        this.owner = owner;
        this.session = session;
        if (systemPrompt != null) {
            messages.add(ChatMessage.system(systemPrompt));
        }
    }

    /** Sends a user message and returns the reply, with {@link GenerateOptions#defaults()}. */
    public Generation send(String userMessage) {
        return send(userMessage, GenerateOptions.defaults());
    }

    /** Sends a user message and returns the reply. */
    public Generation send(String userMessage, GenerateOptions options) {
        return send(userMessage, options, null);
    }

    /**
     * Sends a user message, reporting the reply's tokens and text to {@code listener} on this thread
     * as they are generated. The reply is added to {@link #messages()}.
     *
     * @throws dev.think4j.Think4jException when the conversation no longer fits the context
     */
    public Generation send(String userMessage, GenerateOptions options, Consumer<? super GenerationEvent> listener) {
        return run(userMessage, options, listener, () -> false);
    }

    /**
     * The reply to a user message as a cold, single-use publisher (see
     * {@link LocalModel#generateStreaming}): the turn runs when the subscriber subscribes, and
     * cancelling the subscription ends it.
     */
    public Flow.Publisher<GenerationEvent> sendStreaming(String userMessage, GenerateOptions options) {
        Objects.requireNonNull(userMessage, "userMessage");
        Objects.requireNonNull(options, "options");
        return new GenerationPublisher((sink, cancelled) -> run(userMessage, options, sink, cancelled));
    }

    /** The conversation so far (a copy): system prompt, then user and assistant turns. */
    public List<ChatMessage> messages() {
        check();
        return List.copyOf(messages);
    }

    /** Tokens the cache holds (the conversation's position). */
    public int position() {
        check();
        return session.cache().position();
    }

    /** Bytes the cache holds now. */
    public long kvBytes() {
        check();
        return session.cache().bytes();
    }

    /** Bytes a dense float32 cache of the same tokens would hold. */
    public long kvBytesUncompressed() {
        check();
        return session.cache().uncompressedBytes();
    }

    /**
     * Saves the conversation, its messages and its KV cache as stored (compressed, not expanded), to a
     * session file that {@link #restore} continues exactly, in this process or another.
     */
    public void save(java.nio.file.Path file) {
        acquire();
        try {
            session.save(file, dev.think4j.kv.session.ChatTranscript.extras(LocalModel.internal(messages)));
        } finally {
            releaseBusy();
        }
    }

    /**
     * Replaces this conversation with one saved by {@link #save}: the next {@link #send} continues it
     * as if it had never stopped. The file must come from the same model file and KV setting.
     *
     * @throws dev.think4j.Think4jException for a missing, damaged or foreign file, another model or another kv spec
     */
    public void restore(java.nio.file.Path file) {
        acquire();
        try {
            dev.think4j.kv.session.SessionFile f = dev.think4j.kv.session.SessionFiles.load(file);
            List<ChatMessage> saved = dev.think4j.kv.session.ChatTranscript.messages(f.header().extras()).stream()
                    .map(m -> new ChatMessage(m.role(), m.content())).toList();
            try {
                session.restore(f);
            } catch (RuntimeException e) {
                messages.removeIf(m -> !m.role().equals("system"));
                throw e;
            }
            messages.clear();
            messages.addAll(saved);
        } finally {
            releaseBusy();
        }
    }

    /** Forgets every turn (the system prompt stays) and empties the cache. */
    public void reset() {
        acquire();
        try {
            messages.removeIf(m -> !m.role().equals("system"));
            session.reset();
        } finally {
            releaseBusy();
        }
    }

    /** Frees the cache. Idempotent; a turn running on another thread is cancelled and frees it as it returns. */
    @Override
    public void close() {
        closed = true;
        owner.forget(this);
        if (busy.compareAndSet(false, true)) {
            session.close();
        }
    }

    /** Called by the model's close, when no turn runs. */
    void free() {
        closed = true;
        session.close();
    }

    private Generation run(String userMessage, GenerateOptions options, Consumer<? super GenerationEvent> listener,
                           BooleanSupplier cancelled) {
        Objects.requireNonNull(userMessage, "userMessage");
        Objects.requireNonNull(options, "options");
        acquire();
        try {
            Lock l = owner.enter();
            try {
                return turn(userMessage, options, listener, cancelled);
            } finally {
                owner.exit(l);
            }
        } finally {
            releaseBusy();
        }
    }

    private Generation turn(String userMessage, GenerateOptions options, Consumer<? super GenerationEvent> listener,
                            BooleanSupplier cancelled) {
        messages.add(ChatMessage.user(userMessage));
        try {
            var format = owner.format();
            int[] all = owner.tokenizer().encode(format.render(LocalModel.internal(messages), true), format.addBos(), true);
            int[] fed = session.history();
            int[] delta;
            int cached;
            if (fed.length > 0 && fed.length < all.length && Arrays.equals(fed, 0, fed.length, all, 0, fed.length)) {
                delta = Arrays.copyOfRange(all, fed.length, all.length);
                cached = fed.length;
            } else {
                session.reset();
                delta = all;
                cached = 0;
            }
            BooleanSupplier stop = () -> closed || owner.isClosed() || cancelled.getAsBoolean();
            Generation g = Generations.run(session, delta, options, format.stopTokens(), cached, listener, stop);
            messages.add(ChatMessage.assistant(g.text()));
            return g;
        } catch (RuntimeException | Error e) {
            // the cache may hold part of a turn that is not in the messages: start clean next time
            messages.removeLast();
            session.reset();
            throw e;
        }
    }

    private void acquire() {
        check();
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("this ChatSession is already running a call; sessions are not thread-safe "
                    + "(use one per thread, or wait for the reply)");
        }
        if (closed) {
            releaseBusy();
            check();
        }
    }

    private void releaseBusy() {
        busy.set(false);
        // a close() that found the session busy left the freeing to us
        if (closed && busy.compareAndSet(false, true)) {
            session.close();
        }
    }

    private void check() {
        if (owner.isClosed()) {
            throw new IllegalStateException("the LocalModel of this ChatSession is closed");
        }
        if (closed) {
            throw new IllegalStateException("this ChatSession is closed");
        }
    }

    @Override
    public String toString() {
        return "ChatSession[" + messages.size() + " messages" + (closed ? ", closed" : "") + "]";
    }
}
