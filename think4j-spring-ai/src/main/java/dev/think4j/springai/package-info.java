/**
 * Spring AI integration: {@link dev.think4j.springai.Think4jChatModel}, a Spring AI chat model running a
 * GGUF model in-process, and {@link dev.think4j.springai.Think4jAutoConfiguration}, which Spring Boot
 * applies when {@code think4j.model-path} is set.
 */
package dev.think4j.springai;
