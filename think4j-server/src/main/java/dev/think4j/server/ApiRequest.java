package dev.think4j.server;

import dev.think4j.tokenizer.ChatMessage;
import java.util.List;

/**
 * The fields of a completions or chat request after validation. Exactly one of {@code prompt},
 * {@code promptIds} and {@code messages} is set.
 *
 * @param maxTokens null = as many as the context allows (capped by the server default)
 * @param seed      null = a fresh random seed
 * @param kvSpec    canonical KV spec; null = the server's --kv
 * @param logprobs  alternatives per token to report with each token's log-prob, or -1 for none
 */
public record ApiRequest(String model, String prompt, int[] promptIds, List<ChatMessage> messages, Integer maxTokens,
                         float temperature, float topP, Long seed, List<String> stops, boolean stream,
                         boolean includeUsage, String kvSpec, int logprobs) {

    /** Without log-probs. */
    public ApiRequest(String model, String prompt, int[] promptIds, List<ChatMessage> messages, Integer maxTokens,
                      float temperature, float topP, Long seed, List<String> stops, boolean stream,
                      boolean includeUsage, String kvSpec) {
        this(model, prompt, promptIds, messages, maxTokens, temperature, topP, seed, stops, stream, includeUsage, kvSpec, -1);
    }
}
