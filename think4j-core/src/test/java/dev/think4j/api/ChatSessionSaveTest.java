package dev.think4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.think4j.SharedFixtures;
import dev.think4j.Think4jException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ChatSession.save / restore: a conversation continues in another session as if it had not stopped. */
class ChatSessionSaveTest {
    @TempDir
    Path dir;

    @Test
    void aRestoredConversationContinuesExactly() {
        GenerateOptions greedy = GenerateOptions.greedy().withMaxTokens(40);
        String first = "Once upon a time there was a girl named Lily who liked to play in the park with her friends.";
        String second = "Then a big dog came.";
        Path file = dir.resolve("chat.t4j");
        try (LocalModel m = Think4j.builder(SharedFixtures.bundledModel()).kv("think:0.5+kivi:2,residual=32").load()) {
            String expected;
            try (ChatSession a = m.newChatSession()) {
                a.send(first, greedy);
                a.save(file);
                expected = a.send(second, greedy).text();
            }
            try (ChatSession b = m.newChatSession()) {
                b.restore(file);
                assertThat(b.messages()).hasSize(2);
                Generation g = b.send(second, greedy);
                assertThat(g.cachedTokens()).isPositive();
                assertThat(g.text()).isEqualTo(expected);
            }
        }
        try (LocalModel dense = Think4j.load(SharedFixtures.bundledModel()); ChatSession c = dense.newChatSession()) {
            assertThatThrownBy(() -> c.restore(file)).isInstanceOf(Think4jException.class)
                    .hasMessageContaining("holds a cache compressed with --kv think:0.5+kivi:2,residual=32, not full");
            assertThat(c.position()).isZero();
        }
    }
}
