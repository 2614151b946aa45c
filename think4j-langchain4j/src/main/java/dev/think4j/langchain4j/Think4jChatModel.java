package dev.think4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.think4j.api.Generation;
import dev.think4j.api.LocalModel;

/**
 * A LangChain4j {@link ChatModel} that runs a GGUF model in this process with think4j (no server, no
 * HTTP). Conversations are rendered with the model's own chat template; {@code maxOutputTokens},
 * {@code temperature}, {@code topP}, {@code topK} and {@code stopSequences} of a request override the
 * builder's defaults. Tools, JSON response formats, images and penalties are not supported and throw
 * {@link dev.langchain4j.exception.UnsupportedFeatureException}.
 *
 * <pre>{@code
 * ChatModel chat = Think4jChatModel.builder().modelPath(Path.of("model.gguf")).kv("think:0.5").build();
 * String answer = chat.chat("Hello!");
 * }</pre>
 *
 * <p>Thread-safe: each call has its own KV cache. {@link #close()} frees a model the builder loaded.
 */
public final class Think4jChatModel implements ChatModel, AutoCloseable {
    private final Think4jModelSettings.Resolved settings;

    private Think4jChatModel(Builder builder) {
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
    public ChatResponse doChat(ChatRequest request) {
        Generation g = settings.model().chat(Think4jLangChain.messages(request.messages()),
                Think4jLangChain.options(request, settings.options()));
        return Think4jLangChain.response(g, settings.name());
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

    /** Builds a {@link Think4jChatModel}; see {@link Think4jModelSettings} for the options. */
    public static final class Builder extends Think4jModelSettings<Builder> {
        private Builder() {
        }

        /** Loads the model (unless one was given) and returns the chat model. */
        public Think4jChatModel build() {
            return new Think4jChatModel(this);
        }
    }
}
