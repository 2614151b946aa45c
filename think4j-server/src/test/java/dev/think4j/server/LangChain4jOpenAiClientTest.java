package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.think4j.api.ChatMessage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server as LangChain4j's OpenAI chat models see it: a real client over loopback HTTP. */
@Timeout(90)
class LangChain4jOpenAiClientTest {
    private static InferenceServer server;
    private static LocalModel local;
    private static String baseUrl;

    @BeforeAll
    static void start() {
        server = TestModel.start(1L << 26, 32, 8, 8);
        baseUrl = "http://127.0.0.1:" + server.port() + "/v1";
        local = Think4j.builder(Path.of("models", "stories260K.gguf")).threads(2).load();
    }

    @AfterAll
    static void stop() {
        server.close();
        local.close();
    }

    /** What the same conversation gives in-process, greedy. */
    private static Generation inProcess(int maxTokens, ChatMessage... messages) {
        return local.chat(List.of(messages), GenerateOptions.greedy().withMaxTokens(maxTokens));
    }

    @Test
    void openAiChatModelGetsTheGreedyAnswer() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(baseUrl).apiKey("unused").modelName(TestModel.ID)
                .temperature(0.0).maxTokens(16).timeout(Duration.ofSeconds(30)).maxRetries(0).build();
        ChatResponse r = model.chat(ChatRequest.builder()
                .messages(SystemMessage.from("You tell stories."), UserMessage.from("Once upon a time")).build());
        Generation g = inProcess(16, ChatMessage.system("You tell stories."), ChatMessage.user("Once upon a time"));
        assertThat(r.aiMessage().text()).isEqualTo(g.text()).isNotBlank();
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(g.promptTokens());
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(g.generatedTokens());
        assertThat(r.finishReason()).isEqualTo(g.generatedTokens() == 16 ? FinishReason.LENGTH : FinishReason.STOP);
        assertThat(r.metadata().modelName()).isEqualTo(TestModel.ID);

        ChatResponse stopped = model.chat(ChatRequest.builder().messages(UserMessage.from("Once upon a time"))
                .parameters(ChatRequestParameters.builder().maxOutputTokens(40).stopSequences("Lily").build()).build());
        String free = inProcess(40, ChatMessage.user("Once upon a time")).text();
        String expected = free.contains("Lily") ? free.substring(0, free.indexOf("Lily")) : free;
        assertThat(stopped.aiMessage().text()).isEqualTo(expected);
    }

    @Test
    void openAiStreamingChatModelStreamsTheSameAnswer() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(baseUrl).apiKey("unused")
                .modelName(TestModel.ID).temperature(0.0).maxTokens(24).timeout(Duration.ofSeconds(30)).build();
        List<String> partials = new CopyOnWriteArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(List.of(UserMessage.from("Lily and Ben")), new StreamingChatResponseHandler() {
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
        Generation g = inProcess(24, ChatMessage.user("Lily and Ben"));
        assertThat(partials.size()).isGreaterThan(1);
        assertThat(String.join("", partials)).isEqualTo(complete.aiMessage().text()).isEqualTo(g.text());
        assertThat(complete.tokenUsage().outputTokenCount()).isEqualTo(g.generatedTokens());
    }
}
