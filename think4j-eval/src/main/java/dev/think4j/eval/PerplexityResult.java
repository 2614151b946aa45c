package dev.think4j.eval;

/**
 * Teacher-forced quality of one cache setting over a set of documents.
 *
 * @param klToFull  mean KL(full || compressed) of next-token distributions over the scored tokens;
 *                  NaN when no compression spec was given
 * @param kvBytes   mean over documents of the cache bytes right after the compression point
 * @param kvBytesUncompressed the same for a dense float32 cache
 * @param kvBytesEnd mean over documents of the cache bytes after the last scored token (shows
 *                   decode-time effects such as flushing and eviction)
 * @param kvBytesEndUncompressed the same for a dense float32 cache
 */
public record PerplexityResult(String spec, int documents, long tokens, double meanNll, double perplexity,
                               double klToFull, double kvBytes, double kvBytesUncompressed,
                               double kvBytesEnd, double kvBytesEndUncompressed) {
}
