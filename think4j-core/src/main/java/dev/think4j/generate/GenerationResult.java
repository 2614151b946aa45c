package dev.think4j.generate;

/**
 * The outcome of one generation. Throughputs are tokens per second of wall time for the prefill
 * (prompt tokens, compression included) and for decode (generated tokens). {@code logprobs} has one
 * entry per output id when log-probs were asked for ({@link Session#setLogprobs}), else none.
 */
public record GenerationResult(
        int[] promptIds,
        int[] outputIds,
        String text,
        StopReason stopReason,
        long kvBytes,
        long kvBytesUncompressed,
        double prefillTokensPerSecond,
        double decodeTokensPerSecond,
        java.util.List<TokenLogprobs> logprobs) {

    public GenerationResult {
        logprobs = logprobs == null ? java.util.List.of() : java.util.List.copyOf(logprobs);
    }

    /** Without log-probs. */
    public GenerationResult(int[] promptIds, int[] outputIds, String text, StopReason stopReason, long kvBytes,
                            long kvBytesUncompressed, double prefillTokensPerSecond, double decodeTokensPerSecond) {
        this(promptIds, outputIds, text, stopReason, kvBytes, kvBytesUncompressed, prefillTokensPerSecond,
                decodeTokensPerSecond, null);
    }
}
