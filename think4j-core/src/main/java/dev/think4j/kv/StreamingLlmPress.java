package dev.think4j.kv;

/**
 * StreamingLLM: the first SINKS tokens (attention sinks) plus the most recent WINDOW tokens, at the
 * end of prefill and after every generated token, so generation runs unbounded in bounded memory.
 * Keys are cached post-RoPE at their original positions (no re-rotation into cache positions); the
 * attention pattern is StreamingLLM's, the positional encoding is the model's own.
 */
public final class StreamingLlmPress implements KvPress {
    private final int sinks;
    private final int recent;

    public StreamingLlmPress(int sinks, int recent) {
        this.sinks = sinks;
        this.recent = recent;
    }

    static StreamingLlmPress parse(SpecArgs a) {
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
        return new StreamingLlmPress(sinks, window);
    }

    @Override
    public Stage stage() {
        return Stage.EVICT;
    }

    @Override
    public String spec() {
        return "streamingllm:" + sinks + "," + recent;
    }

    @Override
    public boolean evictsDuringDecode() {
        return true;
    }

    @Override
    public void compress(HeadCompression h) {
        int[] kept = h.keptTokens();
        if (kept.length <= sinks + recent) {
            return;
        }
        int[] keep = new int[sinks + recent];
        System.arraycopy(kept, 0, keep, 0, sinks);
        System.arraycopy(kept, kept.length - recent, keep, sinks, recent);
        h.setKeptTokens(keep);
    }

    @Override
    public void afterToken(HeadCache head, int generated) {
        int excess = head.length() - sinks - recent;
        if (excess > 0) {
            int[] drop = new int[excess];
            for (int i = 0; i < excess; i++) {
                drop[i] = sinks + i;
            }
            head.evict(drop);
        }
    }
}
