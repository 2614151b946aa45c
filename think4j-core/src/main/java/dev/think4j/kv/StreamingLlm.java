package dev.think4j.kv;

import java.util.Optional;

/**
 * StreamingLLM: the first SINKS tokens (attention sinks) plus the most recent WINDOW tokens, at the
 * end of prefill and after every generated token, so generation runs unbounded in bounded memory.
 * Keys are cached post-RoPE at their original positions (no re-rotation into cache positions); the
 * attention pattern is StreamingLLM's, the positional encoding is the model's own.
 */
final class StreamingLlm {
    private StreamingLlm() {
    }

    /** {@code streamingllm:SINKS,WINDOW}. */
    static EvictionPress parse(SpecArgs a) {
        a.maxPositional(2);
        a.allowOnly();
        if (a.positionalCount() < 2) {
            throw a.error("expected SINKS,WINDOW, e.g. streamingllm:4,252");
        }
        int sinks = a.integer(0);
        int window = a.integer(1);
        if (sinks < 0 || window < 1) {
            throw a.error("need SINKS >= 0 and WINDOW >= 1, got " + sinks + "," + window);
        }
        return new EvictionPress("streamingllm:" + sinks + "," + window, TokenScorer.firstTokens(sinks),
                TokenBudget.uniform(sinks + window), h -> window, 1, 0, Optional.of(scores -> new DropOldest(sinks, window)));
    }

    /** After each token: drop what lies between the sinks and the recent window. */
    record DropOldest(int sinks, int recent) implements DecodeRule {
        @Override
        public Step next(HeadStatus head, int generated) {
            int excess = head.length() - sinks - recent;
            if (excess <= 0) {
                return null;
            }
            int[] drop = new int[excess];
            for (int i = 0; i < excess; i++) {
                drop[i] = sinks + i;
            }
            return new Evict(drop);
        }
    }
}
