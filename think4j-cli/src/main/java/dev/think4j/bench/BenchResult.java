package dev.think4j.bench;

/**
 * One benchmark cell: a KV spec at a context depth, like llama-bench's {@code pp512 @ d4096}.
 * Throughputs are medians over repetitions; kvBytes is measured after the timed decode.
 */
public record BenchResult(String kvSpec, int depth, int threads, String test, int tokens, int repetitions,
                          double medianTokensPerSecond, double minTokensPerSecond, double maxTokensPerSecond,
                          long kvBytes, long kvBytesUncompressed, long peakRssBytes) {
}
