package dev.think4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.GenerationEvent;
import dev.think4j.api.LocalModel;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A LangChain4j {@link StreamingChatModel} that runs a GGUF model in this process with think4j.
 * {@code chat} returns at once; the handler then gets the text as it becomes final
 * ({@code onPartialResponse}: the pieces concatenate to the whole answer, a stop string never
 * appears in them), then {@code onCompleteResponse} with the token usage and finish reason, or
 * {@code onError}. Requests are mapped as in {@link Think4jChatModel}. Generations run on a new
 * virtual thread each unless {@link Builder#executor(Executor)} names another executor.
 *
 * <p>Thread-safe. {@link #close()} frees a model the builder loaded.
 */
public final class Think4jStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final Think4jModelSettings.Resolved settings;
    private final Executor executor;

    private Think4jStreamingChatModel(Builder builder) {
        this.executor = builder.executor;
        this.settings = builder.resolve();
    }

    /** A builder; {@code modelPath} or {@code model} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The think4j model behind this chat model. */
    public LocalModel localModel() {
        return settings.model();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Objects.requireNonNull(handler, "handler");
        // Mapping errors (unsupported content) reach the handler like generation errors do.
        List<dev.think4j.api.ChatMessage> messages;
        GenerateOptions options;
        try {
            messages = Think4jLangChain.messages(request.messages());
            options = Think4jLangChain.options(request, settings.options());
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        executor.execute(() -> {
            Generation g;
            try {
                g = settings.model().chat(messages, options, event -> {
                    if (event instanceof GenerationEvent.Text t) {
                        handler.onPartialResponse(t.text());
                    }
                });
            } catch (RuntimeException | Error e) {
                handler.onError(e);
                return;
            }
            handler.onCompleteResponse(Think4jLangChain.response(g, settings.name()));
        });
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return settings.parameters();
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /** Frees the model's native memory if the builder loaded it; a shared {@code model(...)} stays open. */
    @Override
    public void close() {
        if (settings.owned()) {
            settings.model().close();
        }
    }

    /** Builds a {@link Think4jStreamingChatModel}; see {@link Think4jModelSettings} for the options. */
    public static final class Builder extends Think4jModelSettings<Builder> {
        private Executor executor = task -> Thread.ofVirtual().name("think4j-langchain4j").start(task);

        private Builder() {
        }

        /** Where generations run (default: a new virtual thread each). */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Loads the model (unless one was given) and returns the streaming chat model. */
        public Think4jStreamingChatModel build() {
            return new Think4jStreamingChatModel(this);
        }
    }
}
