package dev.think4j.tokenizer;

/** One chat turn. */
public record ChatMessage(String role, String content) {
}
