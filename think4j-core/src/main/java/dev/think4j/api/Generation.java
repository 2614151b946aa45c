package dev.think4j.api;

/**
 * The result of one generation (or one chat turn).
 *
 * <p>Instances are immutable and safe to share.
 */
public final class Generation {
    private final String text;
    private final int[] tokenIds;
    private final FinishReason finishReason;
    private final int promptTokens;
    private final int cachedTokens;
    private final long kvBytes;
    private final long kvBytesUncompressed;
    private final double prefillTokensPerSecond;
    private final double decodeTokensPerSecond;
    private final java.util.List<TokenLogprob> logprobs;

    Generation(String text, int[] tokenIds, FinishReason finishReason, int promptTokens, int cachedTokens, long kvBytes,
               long kvBytesUncompressed, double prefillTokensPerSecond, double decodeTokensPerSecond,
               java.util.List<TokenLogprob> logprobs) {
        this.text = text;
        this.tokenIds = tokenIds.clone();
        this.finishReason = finishReason;
        this.promptTokens = promptTokens;
        this.cachedTokens = cachedTokens;
        this.kvBytes = kvBytes;
        this.kvBytesUncompressed = kvBytesUncompressed;
        this.prefillTokensPerSecond = prefillTokensPerSecond;
        this.decodeTokensPerSecond = decodeTokensPerSecond;
        this.logprobs = java.util.List.copyOf(logprobs);
    }

    /** The generated text (a stop string and anything after it are not part of it). */
    public String text() {
        return text;
    }

    /** The generated token ids, in order (a copy). The end-of-text token that ended the run is not among them. */
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** How many tokens were generated. */
    public int generatedTokens() {
        return tokenIds.length;
    }

    /** Why generation ended. */
    public FinishReason finishReason() {
        return finishReason;
    }

    /** Prompt tokens this call ran through the model (for a chat turn: only what the conversation gained). */
    public int promptTokens() {
        return promptTokens;
    }

    /** Tokens that were already in the cache from earlier turns and were not computed again (0 outside a chat session). */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Bytes the KV cache held at the end, counting everything it stores (scales, index lists...). */
    public long kvBytes() {
        return kvBytes;
    }

    /** Bytes a dense float32 cache of the same tokens would hold: the reference for {@link #kvBytes()}. */
    public long kvBytesUncompressed() {
        return kvBytesUncompressed;
    }

    /** Prompt tokens per second of wall time (compression included). */
    public double prefillTokensPerSecond() {
        return prefillTokensPerSecond;
    }

    /**
     * One entry per generated token when {@link GenerateOptions#withLogprobs(int)} asked for them, else
     * empty (unmodifiable).
     */
    public java.util.List<TokenLogprob> logprobs() {
        return logprobs;
    }

    /** Generated tokens per second of wall time after the first. */
    public double decodeTokensPerSecond() {
        return decodeTokensPerSecond;
    }

    @Override
    public String toString() {
        return "Generation[" + tokenIds.length + " tokens, " + finishReason + ", kvBytes=" + kvBytes + ", text="
                + (text.length() > 60 ? text.substring(0, 60) + "..." : text) + "]";
    }
}
