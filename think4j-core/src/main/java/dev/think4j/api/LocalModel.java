package dev.think4j.api;

import dev.think4j.Think4jException;
import dev.think4j.generate.Session;
import dev.think4j.model.Model;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A model loaded in this process (see {@link Think4j}): tokenize, generate, chat.
 *
 * <p><b>Thread-safety:</b> a {@code LocalModel} is thread-safe. Any number of threads may call
 * {@link #generate} and {@link #chat} at once; each call builds its own KV cache and frees it before
 * returning, and the weights are only read. A {@link ChatSession} is not thread-safe (one thread at a
 * time; see there).
 *
 * <p><b>Memory:</b> the weights (a copy in huge pages for files of 64 MiB and more, else a mapping of
 * the file) and the KV pages of open chat sessions live outside the Java heap. {@link #close()}
 * frees them at once: it cancels running generations, waits for them to return, closes every open
 * chat session and releases the weights. Any later use throws {@link IllegalStateException}.
 */
public final class LocalModel implements AutoCloseable {
    private final Path path;
    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatFormat format;
    private final int contextLength;
    private final KvConfig kv;
    private final int prefillChunk;
    /** Calls in flight hold the read lock; releasing the native memory takes the write lock. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Set<ChatSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Under the write lock. */
    private boolean released;

    private LocalModel(Path path, Model model, Tokenizer tokenizer, ChatFormat format, int contextLength, KvConfig kv,
                       int prefillChunk) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.format = format;
        this.contextLength = contextLength;
        this.kv = kv;
        this.prefillChunk = prefillChunk;
    }

    static LocalModel open(Path path, Integer contextLength, KvConfig kv, boolean checkTensors, int prefillChunk) {
        Model model = Model.load(path, checkTensors);
        try {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.gguf());
            ChatFormat format = ChatFormat.detect(model.gguf().getString("tokenizer.chat_template", null), tokenizer);
            int ctx = contextLength != null ? contextLength : model.config().contextLength();
            return new LocalModel(path, model, tokenizer, format, ctx, kv, prefillChunk);
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    /** The model file. */
    public Path path() {
        return path;
    }

    /** The architecture named in the file, e.g. {@code llama} or {@code qwen3}. */
    public String architecture() {
        return model.config().architecture();
    }

    /** Tokens a generation or conversation may hold (prompt and output together). */
    public int contextLength() {
        return contextLength;
    }

    /** Tokens in the vocabulary. */
    public int vocabularySize() {
        return model.config().vocabSize();
    }

    /** The KV cache compression every generation and session of this model uses. */
    public KvConfig kvConfig() {
        return kv;
    }

    /** The chat format read from the model's template, e.g. {@code llama3}, {@code chatml}, {@code plain}. */
    public String chatFormat() {
        return format.name();
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Token ids of {@code text} as a prompt: BOS first when the vocabulary asks for it, and special-token
     * text such as {@code <|eot_id|>} read as that token (as {@code think4j generate} does).
     */
    public int[] tokenize(String text) {
        return tokenize(text, true, true);
    }

    /**
     * Token ids of {@code text}.
     *
     * @param addBos       add BOS when the vocabulary asks for it
     * @param parseSpecial read special-token text (e.g. {@code <|im_start|>}) as that token
     */
    public int[] tokenize(String text, boolean addBos, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        Lock l = enter();
        try {
            return tokenizer.encode(text, addBos, parseSpecial);
        } finally {
            exit(l);
        }
    }

    /**
     * The text of {@code ids}: control tokens decode to nothing and SentencePiece's leading space is dropped.
     *
     * @throws IllegalArgumentException when an id is outside the vocabulary
     */
    public String detokenize(int... ids) {
        Lock l = enter();
        try {
            checkIds(ids);
            return tokenizer.decode(ids);
        } finally {
            exit(l);
        }
    }

    /** Continues {@code prompt} with {@link GenerateOptions#defaults()}. */
    public Generation generate(String prompt) {
        return generate(prompt, GenerateOptions.defaults());
    }

    /**
     * Continues {@code prompt}.
     *
     * @throws Think4jException when the prompt is empty or does not fit the context
     */
    public Generation generate(String prompt, GenerateOptions options) {
        return generate(prompt, options, null);
    }

    /**
     * Continues {@code prompt}, calling {@code listener} on this thread with every token and text piece
     * as it is generated, then with the result ({@link GenerationEvent.Completed}). The listener must
     * not call back into this model's {@link #close()} expecting the memory freed before it returns: a
     * close from inside a listener cancels the generation and frees the memory when the call returns.
     */
    public Generation generate(String prompt, GenerateOptions options, Consumer<? super GenerationEvent> listener) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        Lock l = enter();
        try {
            return generateIds(tokenizer.encode(prompt, true, true), options, new int[0], listener, () -> false);
        } finally {
            exit(l);
        }
    }

    /**
     * Continues a prompt given as token ids.
     *
     * @throws IllegalArgumentException when an id is outside the vocabulary
     */
    public Generation generate(int[] promptIds, GenerateOptions options, Consumer<? super GenerationEvent> listener) {
        Objects.requireNonNull(options, "options");
        Lock l = enter();
        try {
            checkIds(promptIds);
            return generateIds(promptIds.clone(), options, new int[0], listener, () -> false);
        } finally {
            exit(l);
        }
    }

    /**
     * A publisher of one generation's events. It is cold and single-use: generation starts, on a
     * thread of its own, when the subscriber subscribes, and runs as fast as the subscriber requests
     * events. Cancelling the subscription stops it. The last event is a {@link GenerationEvent.Completed};
     * errors (a prompt too long, the model closed) arrive through {@code onError}.
     */
    public Flow.Publisher<GenerationEvent> generateStreaming(String prompt, GenerateOptions options) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        return new GenerationPublisher((sink, cancelled) -> {
            Lock l = enter();
            try {
                return generateIds(tokenizer.encode(prompt, true, true), options, new int[0], sink, cancelled);
            } finally {
                exit(l);
            }
        });
    }

    /**
     * Answers the last message of a conversation, rendered with the model's own chat template; nothing
     * is kept afterwards (see {@link #newChatSession()} for a conversation that keeps its cache).
     */
    public Generation chat(List<ChatMessage> messages, GenerateOptions options) {
        return chat(messages, options, null);
    }

    /** As {@link #chat(List, GenerateOptions)}, reporting events to {@code listener} as they come. */
    public Generation chat(List<ChatMessage> messages, GenerateOptions options, Consumer<? super GenerationEvent> listener) {
        Objects.requireNonNull(options, "options");
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("no messages");
        }
        Lock l = enter();
        try {
            int[] ids = tokenizer.encode(format.render(internal(messages), true), format.addBos(), true);
            return generateIds(ids, options, format.stopTokens(), listener, () -> false);
        } finally {
            exit(l);
        }
    }

    /** The text the chat template makes of {@code messages}, ready for the assistant's reply. */
    public String renderChat(List<ChatMessage> messages) {
        Lock l = enter();
        try {
            return format.render(internal(messages), true);
        } finally {
            exit(l);
        }
    }

    /** A new conversation without a system prompt. */
    public ChatSession newChatSession() {
        return newChatSession(null);
    }

    /**
     * A new conversation that keeps its KV cache across turns, so each turn computes only the tokens
     * the conversation gained. Close it to free its cache (closing the model closes it too).
     *
     * @param systemPrompt the system message, or null for none
     */
    public ChatSession newChatSession(String systemPrompt) {
        Lock l = enter();
        try {
            ChatSession s = new ChatSession(this, newSession(), systemPrompt);
            sessions.add(s);
            return s;
        } finally {
            exit(l);
        }
    }

    /**
     * Cancels running generations, waits for them to return, closes every open chat session and frees
     * the weights. Idempotent. Called from inside a generation's listener, it cancels that generation and
     * the memory is freed when the generation returns.
     */
    @Override
    public void close() {
        closed = true;
        if (lifecycle.getReadHoldCount() > 0) {
            return;
        }
        lifecycle.writeLock().lock();
        try {
            release();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        for (ChatSession s : sessions) {
            s.free();
        }
        sessions.clear();
        model.close();
    }

    // ---- for ChatSession and the publishers ----

    Tokenizer tokenizer() {
        return tokenizer;
    }

    ChatFormat format() {
        return format;
    }

    Session newSession() {
        return new Session(model, tokenizer, kv.policy(), contextLength, prefillChunk);
    }

    void forget(ChatSession s) {
        sessions.remove(s);
    }

    /** Holds the model open for one call: the lock is released by {@link #exit}. */
    Lock enter() {
        Lock l = lifecycle.readLock();
        l.lock();
        if (closed) {
            l.unlock();
            throw new IllegalStateException("this LocalModel (" + path.getFileName() + ") is closed");
        }
        return l;
    }

    void exit(Lock l) {
        l.unlock();
        // a close() that came from inside a listener left the release to the last call out
        if (closed && lifecycle.getReadHoldCount() == 0 && lifecycle.writeLock().tryLock()) {
            try {
                release();
            } finally {
                lifecycle.writeLock().unlock();
            }
        }
    }

    private Generation generateIds(int[] ids, GenerateOptions options, int[] stopTokens, Consumer<? super GenerationEvent> listener,
                                   BooleanSupplier cancelled) {
        Session session = newSession();
        try {
            return Generations.run(session, ids, options, stopTokens, 0, listener, () -> closed || cancelled.getAsBoolean());
        } finally {
            session.close();
        }
    }

    private void checkIds(int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= model.config().vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + model.config().vocabSize());
            }
        }
    }

    static List<dev.think4j.tokenizer.ChatMessage> internal(List<ChatMessage> messages) {
        return messages.stream().map(ChatMessage::internal).toList();
    }

    @Override
    public String toString() {
        return "LocalModel[" + path.getFileName() + ", " + architecture() + ", ctx " + contextLength + ", kv " + kv + (closed ? ", closed" : "") + "]";
    }
}
