package dev.think4j.server;

import dev.think4j.generate.SamplerConfig;
import java.util.List;

/**
 * A validated request as the scheduler sees it: token ids in, text out.
 *
 * @param kvSpec     canonical KV spec ({@code KvPolicy.spec()}); parsed again per sequence because
 *                   presses may keep per-cache state
 * @param stopTokens ids that end the turn besides the tokenizer's end-of-generation ids
 * @param logprobs   alternatives per token to report with each token's log-prob, or -1 for no log-probs
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplerConfig sampler, List<String> stops,
                                int[] stopTokens, String kvSpec, int logprobs) {
    public GenerationRequest {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be >= 1");
        }
        stops = List.copyOf(stops);
        if (logprobs < -1 || logprobs > dev.think4j.generate.TokenLogprobs.MAX_TOP) {
            throw new IllegalArgumentException("logprobs must be -1 or 0.." + dev.think4j.generate.TokenLogprobs.MAX_TOP);
        }
    }

    /** Without log-probs. */
    public GenerationRequest(int[] promptIds, int maxTokens, SamplerConfig sampler, List<String> stops, int[] stopTokens,
                             String kvSpec) {
        this(promptIds, maxTokens, sampler, stops, stopTokens, kvSpec, -1);
    }
}
