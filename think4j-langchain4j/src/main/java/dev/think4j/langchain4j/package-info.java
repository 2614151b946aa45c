/**
 * LangChain4j integration: {@link dev.think4j.langchain4j.Think4jChatModel} and
 * {@link dev.think4j.langchain4j.Think4jStreamingChatModel} run a GGUF model in-process through
 * {@link dev.think4j.api.LocalModel}, with any KV cache compression think4j supports.
 */
package dev.think4j.langchain4j;
