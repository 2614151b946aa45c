package dev.think4j.generate;

/**
 * The outcome of one generation. Throughputs are tokens per second of wall time for the prefill
 * (prompt tokens, compression included) and for decode (generated tokens).
 */
public record GenerationResult(
        int[] promptIds,
        int[] outputIds,
        String text,
        StopReason stopReason,
        long kvBytes,
        long kvBytesUncompressed,
        double prefillTokensPerSecond,
        double decodeTokensPerSecond) {
}
