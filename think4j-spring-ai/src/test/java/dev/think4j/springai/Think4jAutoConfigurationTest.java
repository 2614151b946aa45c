package dev.think4j.springai;

import static org.assertj.core.api.Assertions.assertThat;

import dev.think4j.SharedFixtures;
import dev.think4j.api.ChatMessage;
import dev.think4j.api.GenerateOptions;
import dev.think4j.api.Generation;
import dev.think4j.api.LocalModel;
import dev.think4j.api.Think4j;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** A minimal Boot context configures the chat model from think4j.* properties; it answers like the API. */
@Timeout(120)
class Think4jAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(Think4jAutoConfiguration.class));

    private static Generation inProcess(String kv, int maxTokens, ChatMessage... messages) {
        try (LocalModel m = Think4j.builder(SharedFixtures.bundledModel()).kv(kv).threads(2).load()) {
            return m.chat(List.of(messages), GenerateOptions.greedy().withMaxTokens(maxTokens));
        }
    }

    @Test
    void configuresAChatModelFromTheProperties() {
        Generation expected = inProcess("think:0.5", 20, ChatMessage.system("You tell stories."), ChatMessage.user("Once upon a time"));
        runner.withPropertyValues("think4j.model-path=" + SharedFixtures.bundledModel(), "think4j.kv=think:0.5",
                "think4j.threads=2", "think4j.max-tokens=20", "think4j.temperature=0").run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(ChatModel.class);
                    Think4jChatModel model = context.getBean(Think4jChatModel.class);
                    assertThat(model.localModel().kvConfig().toString()).isEqualTo("think:0.5");
                    ChatResponse r = model.call(new Prompt(List.of(new SystemMessage("You tell stories."), new UserMessage("Once upon a time"))));
                    assertThat(r.getResult().getOutput().getText()).isEqualTo(expected.text()).isNotBlank();
                    assertThat(r.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.generatedTokens());
                    assertThat(r.getMetadata().getUsage().getPromptTokens()).isEqualTo(expected.promptTokens());
                    assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo(expected.generatedTokens() == 20 ? "LENGTH" : "STOP");

                    ChatResponse shorter = model.call(new Prompt(List.of(new SystemMessage("You tell stories."), new UserMessage("Once upon a time")),
                            ChatOptions.builder().maxTokens(5).build()));
                    assertThat(shorter.getMetadata().getUsage().getCompletionTokens()).isEqualTo(5);
                    assertThat(expected.text()).startsWith(shorter.getResult().getOutput().getText());

                    List<ChatResponse> pieces = model.stream(new Prompt(List.of(new SystemMessage("You tell stories."),
                            new UserMessage("Once upon a time")))).collectList().block();
                    assertThat(pieces.size()).isGreaterThan(2);
                    assertThat(pieces.stream().map(p -> p.getResult().getOutput().getText()).collect(Collectors.joining()))
                            .isEqualTo(expected.text());
                    model.localModel();
                });
    }

    @Test
    void withoutAModelPathNothingIsConfigured() {
        runner.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ChatModel.class));
    }

    @Test
    void closingTheContextFreesTheModel() {
        LocalModel[] seen = new LocalModel[1];
        runner.withPropertyValues("think4j.model-path=" + SharedFixtures.bundledModel())
                .run(context -> seen[0] = context.getBean(Think4jChatModel.class).localModel());
        assertThat(seen[0].isClosed()).isTrue();
    }
}
