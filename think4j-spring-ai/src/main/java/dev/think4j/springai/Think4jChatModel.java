package dev.think4j.springai;

import dev.think4j.api.ChatMessage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.GenerationEvent;
import dev.think4j.api.LocalModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;

/**
 * A Spring AI {@link ChatModel} backed by a think4j {@link LocalModel} in this process. Prompts are
 * rendered with the model's chat template; a prompt's {@link ChatOptions} (max tokens, temperature,
 * top-p, top-k, stop sequences) override the defaults given here. {@link #stream(Prompt)} emits the
 * text as it becomes final, one response per piece. Tool messages and frequency or presence
 * penalties are refused with {@link UnsupportedOperationException}. Thread-safe.
 */
public final class Think4jChatModel implements ChatModel, AutoCloseable {
    private final LocalModel model;
    private final boolean owned;
    private final GenerateOptions defaults;
    private final String name;

    /**
     * @param model    the model to run
     * @param owned    whether {@link #close()} closes {@code model}
     * @param defaults generation options that a prompt's options override
     */
    public Think4jChatModel(LocalModel model, boolean owned, GenerateOptions defaults) {
        this.model = Objects.requireNonNull(model, "model");
        this.owned = owned;
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        String file = model.path().getFileName().toString();
        this.name = file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
    }

    /** The think4j model behind this chat model. */
    public LocalModel localModel() {
        return model;
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        Generation g = model.chat(messages(prompt), options(prompt.getOptions()));
        return response(g.text(), g);
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        List<ChatMessage> messages = messages(prompt);
        GenerateOptions options = options(prompt.getOptions());
        return Flux.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onDispose(() -> cancelled.set(true));
            Thread.ofVirtual().name("think4j-spring-ai").start(() -> {
                try {
                    Generation g = model.chat(messages, options, event -> {
                        if (event instanceof GenerationEvent.Text t && !cancelled.get()) {
                            sink.next(response(t.text(), null));
                        }
                    });
                    sink.next(response("", g));
                    sink.complete();
                } catch (RuntimeException | Error e) {
                    sink.error(e);
                }
            });
        });
    }

    @Override
    public ChatOptions getDefaultOptions() {
        return ChatOptions.builder().model(name).maxTokens(defaults.maxTokens()).temperature(defaults.temperature())
                .topP(defaults.topP()).topK(defaults.topK()).build();
    }

    private static List<ChatMessage> messages(Prompt prompt) {
        List<ChatMessage> out = new ArrayList<>();
        for (Message m : prompt.getInstructions()) {
            String text = m.getText() == null ? "" : m.getText();
            out.add(switch (m.getMessageType()) {
                case SYSTEM -> ChatMessage.system(text);
                case USER -> ChatMessage.user(text);
                case ASSISTANT -> ChatMessage.assistant(text);
                case TOOL -> throw new UnsupportedOperationException("think4j does not support tool messages");
            });
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("a prompt needs at least one message");
        }
        return out;
    }

    private GenerateOptions options(ChatOptions o) {
        GenerateOptions g = defaults;
        if (o == null) {
            return g;
        }
        if (o.getFrequencyPenalty() != null || o.getPresencePenalty() != null) {
            throw new UnsupportedOperationException("think4j does not support frequency or presence penalties");
        }
        if (o.getMaxTokens() != null) {
            g = g.withMaxTokens(o.getMaxTokens());
        }
        if (o.getTemperature() != null) {
            g = g.withTemperature(o.getTemperature());
        }
        if (o.getTopP() != null) {
            g = g.withTopP(o.getTopP());
        }
        if (o.getTopK() != null) {
            g = g.withTopK(o.getTopK());
        }
        if (o.getStopSequences() != null && !o.getStopSequences().isEmpty()) {
            g = g.withStopStrings(o.getStopSequences().toArray(String[]::new));
        }
        return g;
    }

    /** A response with {@code text}; {@code done}, when the generation has ended, adds usage and finish reason. */
    private ChatResponse response(String text, Generation done) {
        ChatResponseMetadata.Builder meta = ChatResponseMetadata.builder().model(name);
        ChatGenerationMetadata genMeta = ChatGenerationMetadata.NULL;
        if (done != null) {
            meta.usage(new DefaultUsage(done.promptTokens(), done.generatedTokens()));
            genMeta = ChatGenerationMetadata.builder().finishReason(switch (done.finishReason()) {
                case END_OF_TEXT, STOP_STRING -> "STOP";
                case MAX_TOKENS, CONTEXT_FULL -> "LENGTH";
                case CANCELLED -> "CANCELLED";
            }).build();
        }
        return new ChatResponse(List.of(new org.springframework.ai.chat.model.Generation(new AssistantMessage(text), genMeta)),
                meta.build());
    }

    /** Closes the model if this chat model loaded it. */
    @Override
    public void close() {
        if (owned) {
            model.close();
        }
    }
}
