package dev.think4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server as the official OpenAI Java client sees it. */
@Timeout(60)
class OpenAiClientTest {
    private static InferenceServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        server = TestModel.start(1L << 26, 32, 8, 8);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .maxRetries(0).timeout(Duration.ofSeconds(30)).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String text, long maxTokens) {
        return ChatCompletionCreateParams.builder().model(TestModel.ID).addUserMessage(text).maxTokens(maxTokens)
                .temperature(0.0);
    }

    @Test
    void listsTheModel() {
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly(TestModel.ID);
    }

    @Test
    void chatCompletionWithUsage() {
        ChatCompletion c = client.chat().completions().create(chat("Once upon a time", 12).build());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().get(0).message().content()).isPresent().get().asString().isNotBlank();
        assertThat(c.choices().get(0).finishReason()).isIn(ChatCompletion.Choice.FinishReason.LENGTH,
                ChatCompletion.Choice.FinishReason.STOP);
        assertThat(c.usage()).isPresent();
        assertThat(c.usage().get().completionTokens()).isBetween(1L, 12L);
        assertThat(c.usage().get().totalTokens()).isEqualTo(c.usage().get().promptTokens() + c.usage().get().completionTokens());
    }

    @Test
    void streamedChatEqualsTheWholeResponse() {
        String whole = client.chat().completions().create(chat("Lily and Ben", 16).build()).choices().get(0).message().content()
                .orElseThrow();
        List<String> pieces = new ArrayList<>();
        List<ChatCompletionChunk> usage = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                chat("Lily and Ben", 16).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(pieces::add));
                if (chunk.usage().isPresent()) {
                    usage.add(chunk);
                }
            });
        }
        assertThat(String.join("", pieces)).isEqualTo(whole);
        assertThat(usage).hasSize(1);
        assertThat(usage.get(0).usage().get().completionTokens()).isEqualTo(16);
    }

    @Test
    void legacyCompletionHonoursStopAndSeed() {
        CompletionCreateParams.Builder p = CompletionCreateParams.builder().model(TestModel.ID).prompt("Once upon a time")
                .maxTokens(40L).temperature(0.0);
        String free = client.completions().create(p.build()).choices().get(0).text();
        assertThat(free).contains("Lily");
        Completion stopped = client.completions().create(p.stop("Lily").build());
        assertThat(stopped.choices().get(0).text()).isEqualTo(free.substring(0, free.indexOf("Lily")));
        assertThat(stopped.choices().get(0).finishReason()).isEqualTo(com.openai.models.completions.CompletionChoice.FinishReason.STOP);
        CompletionCreateParams sampled = CompletionCreateParams.builder().model(TestModel.ID).prompt("Once upon a time")
                .maxTokens(20L).temperature(1.0).topP(0.9).seed(7L).build();
        assertThat(client.completions().create(sampled).choices().get(0).text())
                .isEqualTo(client.completions().create(sampled).choices().get(0).text());
    }

    @Test
    void perRequestKvSpecIsAnExtensionField() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestModel.ID).prompt("Once upon a time")
                .maxTokens(8L).temperature(0.0).putAdditionalBodyProperty("kv", JsonValue.from("think:0.5")).build());
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(8);
        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder().model(TestModel.ID)
                .prompt("x").maxTokens(8L).putAdditionalBodyProperty("kv", JsonValue.from("think:7")).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).contains("kv");
                });
    }

    @Test
    void errorsAreOpenAiStyle() {
        assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o")
                .addUserMessage("hi").build()))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).contains("model_not_found"));
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi", 8).temperature(-1.0).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.param()).contains("temperature"));
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi", 8).topP(0.0).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.param()).contains("top_p"));
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi", 0).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.param()).contains("max_tokens"));
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi", 100_000).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.code()).contains("context_length_exceeded"));
        // The server still serves after all of that.
        assertThat(client.chat().completions().create(chat("hi", 2).build()).usage().orElseThrow().completionTokens()).isEqualTo(2);
    }
}
