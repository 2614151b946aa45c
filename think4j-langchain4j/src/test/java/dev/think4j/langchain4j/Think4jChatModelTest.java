package dev.think4j.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.think4j.SharedFixtures;
import dev.think4j.api.ChatMessage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.KvConfig;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Both LangChain4j chat models on the bundled model, checked against think4j's own API. */
@Timeout(120)
class Think4jChatModelTest {
    static Think4jChatModel chat;
    static LocalModel shared;

    @BeforeAll
    static void load() {
        chat = Think4jChatModel.builder().modelPath(SharedFixtures.bundledModel()).kv("think:0.5")
                .threads(2).maxTokens(24).temperature(0).build();
        shared = Think4j.builder(SharedFixtures.bundledModel()).kv(KvConfig.builder().think(0.5).build()).threads(2).load();
    }

    @AfterAll
    static void close() {
        chat.close();
        shared.close();
    }

    private static Generation direct(List<ChatMessage> messages, GenerateOptions options) {
        return shared.chat(messages, options);
    }

    @Test
    void plainChatIsThink4jsChatWithTheBuilderDefaults() {
        ChatResponse r = chat.chat(UserMessage.from("Once upon a time"));
        Generation g = direct(List.of(ChatMessage.user("Once upon a time")), GenerateOptions.greedy().withMaxTokens(24));
        assertThat(r.aiMessage().text()).isEqualTo(g.text()).isNotBlank();
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(g.promptTokens()).isPositive();
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(g.generatedTokens());
        assertThat(r.finishReason()).isEqualTo(g.generatedTokens() == 24 ? FinishReason.LENGTH : FinishReason.STOP);
        assertThat(r.metadata().modelName()).isEqualTo("stories260K");
        assertThat(chat.localModel().kvConfig().toString()).contains("think");
    }

    @Test
    void systemUserAndAiMessagesAndRequestParametersAreMapped() {
        ChatRequest request = ChatRequest.builder()
                .messages(SystemMessage.from("You tell stories."), UserMessage.from("Tom had a dog."),
                        AiMessage.from("The dog was big."), UserMessage.from("What did the dog do?"))
                .parameters(ChatRequestParameters.builder().maxOutputTokens(7).temperature(0.9).topP(0.8).topK(5).build())
                .build();
        ChatResponse r = chat.chat(request);
        Generation g = direct(List.of(ChatMessage.system("You tell stories."), ChatMessage.user("Tom had a dog."),
                        ChatMessage.assistant("The dog was big."), ChatMessage.user("What did the dog do?")),
                GenerateOptions.defaults().withMaxTokens(7).withTemperature(0.9).withTopP(0.8).withTopK(5));
        assertThat(r.aiMessage().text()).isEqualTo(g.text());
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(7);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void stopSequencesCutTheAnswer() {
        String whole = chat.chat(UserMessage.from("Once upon a time")).aiMessage().text();
        String[] words = whole.trim().split(" ");
        String stop = " " + words[Math.min(3, words.length - 1)];
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("Once upon a time"))
                .parameters(ChatRequestParameters.builder().stopSequences(stop).build()).build());
        assertThat(r.aiMessage().text()).isEqualTo(whole.substring(0, whole.indexOf(stop)));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    }

    interface Storyteller {
        @dev.langchain4j.service.SystemMessage("You tell short stories.")
        String tell(@dev.langchain4j.service.UserMessage String start);
    }

    @Test
    void aiServicesCallTheModel() {
        Storyteller teller = AiServices.create(Storyteller.class, chat);
        String story = teller.tell("Lily went to the park");
        Generation g = direct(List.of(ChatMessage.system("You tell short stories."), ChatMessage.user("Lily went to the park")),
                GenerateOptions.greedy().withMaxTokens(24));
        assertThat(story).isEqualTo(g.text()).isNotBlank();
    }

    @Test
    void streamingPartialsMakeTheCompleteResponse() throws Exception {
        try (Think4jStreamingChatModel streaming = Think4jStreamingChatModel.builder().model(shared).maxTokens(40).temperature(0)
                .build()) {
            List<String> partials = new CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            streaming.chat(List.of(UserMessage.from("Once upon a time")), new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String partial) {
                    partials.add(partial);
                }

                @Override
                public void onCompleteResponse(ChatResponse response) {
                    done.complete(response);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            ChatResponse complete = done.get(60, TimeUnit.SECONDS);
            assertThat(partials.size()).isGreaterThan(1);
            assertThat(String.join("", partials)).isEqualTo(complete.aiMessage().text());
            Generation g = direct(List.of(ChatMessage.user("Once upon a time")), GenerateOptions.greedy().withMaxTokens(40));
            assertThat(complete.aiMessage().text()).isEqualTo(g.text());
            assertThat(complete.tokenUsage().outputTokenCount()).isEqualTo(g.generatedTokens());
            assertThat(streaming.localModel().isClosed()).isFalse();
        }
        assertThat(shared.isClosed()).as("a shared model stays open").isFalse();
    }

    @Test
    void streamingReportsUnsupportedContentToTheHandler() throws Exception {
        try (Think4jStreamingChatModel streaming = Think4jStreamingChatModel.builder().model(shared).build()) {
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            streaming.chat(List.of(UserMessage.from(TextContent.from("look"), ImageContent.from("https://example.com/a.png"))),
                    new StreamingChatResponseHandler() {
                        @Override
                        public void onPartialResponse(String partial) {
                        }

                        @Override
                        public void onCompleteResponse(ChatResponse response) {
                            done.complete(response);
                        }

                        @Override
                        public void onError(Throwable error) {
                            done.completeExceptionally(error);
                        }
                    });
            assertThatThrownBy(() -> done.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(UnsupportedFeatureException.class);
        }
    }

    @Test
    void toolsAreRefused() {
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("hi"))
                .parameters(ChatRequestParameters.builder()
                        .toolSpecifications(ToolSpecification.builder().name("weather").description("the weather").build()).build())
                .build();
        assertThatThrownBy(() -> chat.chat(request)).isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("tools");
    }

    @Test
    void aBuilderWithoutAModelSaysSo() {
        assertThatThrownBy(() -> Think4jChatModel.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("modelPath");
    }
}
