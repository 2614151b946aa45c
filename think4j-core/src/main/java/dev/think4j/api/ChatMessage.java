package dev.think4j.api;

import java.util.Objects;

/**
 * One turn of a conversation.
 *
 * @param role    {@code "system"}, {@code "user"} or {@code "assistant"}
 * @param content the turn's text
 */
public record ChatMessage(String role, String content) {
    /** Checks the role and that neither field is null. */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
            throw new IllegalArgumentException("role must be system, user or assistant, got '" + role + "'");
        }
    }

    /** A system instruction. */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /** A user turn. */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    /** An assistant turn. */
    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    dev.think4j.tokenizer.ChatMessage internal() {
        return new dev.think4j.tokenizer.ChatMessage(role, content);
    }
}
