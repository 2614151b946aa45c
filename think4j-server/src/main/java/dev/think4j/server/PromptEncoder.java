package dev.think4j.server;

import dev.think4j.generate.SamplerConfig;
import dev.think4j.tokenizer.ChatFormat;
import dev.think4j.tokenizer.Tokenizer;
import java.util.concurrent.ThreadLocalRandom;

/** Turns a validated {@link ApiRequest} into token ids and a {@link GenerationRequest}, checking the context. */
public final class PromptEncoder {
    /** max_tokens when the client gives none: enough for a reply without reserving the whole context. */
    static final int DEFAULT_MAX_TOKENS = 256;

    private final Tokenizer tokenizer;
    private final ChatFormat format;
    private final int contextLength;
    private final String defaultKvSpec;

    public PromptEncoder(Tokenizer tokenizer, ChatFormat format, int contextLength, String defaultKvSpec) {
        this.tokenizer = tokenizer;
        this.format = format;
        this.contextLength = contextLength;
        this.defaultKvSpec = defaultKvSpec;
    }

    public GenerationRequest encode(ApiRequest r) {
        int[] ids;
        int[] stopTokens = new int[0];
        String param;
        if (r.messages() != null) {
            ids = tokenizer.encode(format.render(r.messages(), true), format.addBos(), true);
            stopTokens = format.stopTokens();
            param = "messages";
        } else if (r.promptIds() != null) {
            ids = r.promptIds().clone();
            for (int id : ids) {
                if (id < 0 || id >= tokenizer.vocabSize()) {
                    throw ApiException.invalid("token id " + id + " is outside the vocabulary of " + tokenizer.vocabSize(),
                            "prompt", "invalid_value");
                }
            }
            param = "prompt";
        } else {
            // as llama-server does for a raw prompt: special-token text such as <|im_start|> is the token
            ids = tokenizer.encode(r.prompt(), true, true);
            param = "prompt";
        }
        if (ids.length == 0) {
            throw ApiException.invalid("the prompt is empty (no tokens to start from)", param, "invalid_value");
        }
        if (ids.length >= contextLength) {
            throw ApiException.invalid("this model's maximum context length is " + contextLength + " tokens, but the prompt has "
                    + ids.length + " tokens (no room to generate)", param, "context_length_exceeded");
        }
        int maxTokens;
        if (r.maxTokens() == null) {
            maxTokens = Math.min(DEFAULT_MAX_TOKENS, contextLength - ids.length);
        } else {
            maxTokens = r.maxTokens();
            if ((long) ids.length + maxTokens > contextLength) {
                throw ApiException.invalid("this model's maximum context length is " + contextLength + " tokens, but you requested "
                        + (ids.length + maxTokens) + " tokens (" + ids.length + " in the prompt, " + maxTokens
                        + " for the completion); reduce the prompt or max_tokens", "max_tokens", "context_length_exceeded");
            }
        }
        long seed = r.seed() != null ? r.seed() : ThreadLocalRandom.current().nextLong();
        SamplerConfig sampler = new SamplerConfig(r.temperature(), RequestParser.DEFAULT_TOP_K, r.topP(), RequestParser.DEFAULT_MIN_P, 1f, 64, seed);
        String kv = r.kvSpec() != null ? r.kvSpec() : defaultKvSpec;
        return new GenerationRequest(ids, maxTokens, sampler, r.stops(), stopTokens, kv, r.logprobs());
    }
}
