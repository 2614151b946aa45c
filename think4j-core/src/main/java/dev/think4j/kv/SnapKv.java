package dev.think4j.kv;

import java.util.Optional;

/**
 * SnapKV: at the end of prefill, the window queries' attention over the prefix, summed over window
 * positions and the query heads of each KV head, max-pooled along tokens, picks the (budget - W)
 * prefix tokens each KV head keeps; the window itself is always kept. PyramidKV is the same with a
 * per-layer budget schedule ({@link TokenBudget#pyramid}).
 */
final class SnapKv {
    private SnapKv() {
    }

    /** {@code snapkv:BUDGET[,window=32,kernel=7]} and {@code pyramidkv:BUDGET[,...]}. */
    static EvictionPress parse(SpecArgs a, boolean pyramid) {
        a.maxPositional(1);
        a.allowOnly("window", "kernel");
        int budget = a.integer(0);
        int window = a.integer("window", KvPolicy.DEFAULT_WINDOW);
        int kernel = a.integer("kernel", 7);
        if (window < 1) {
            throw a.error("window must be >= 1, got " + window);
        }
        if (budget <= window) {
            throw a.error("budget (tokens kept per KV head) must exceed the window " + window + ", got " + budget);
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw a.error("kernel must be a positive odd number, got " + kernel);
        }
        String spec = (pyramid ? "pyramidkv" : "snapkv") + ":" + budget
                + (window != KvPolicy.DEFAULT_WINDOW ? ",window=" + window : "") + (kernel != 7 ? ",kernel=" + kernel : "");
        TokenBudget b = pyramid ? TokenBudget.pyramid(budget, window) : TokenBudget.uniform(budget);
        // the protected recent tokens are the window the queries were observed over
        return new EvictionPress(spec, TokenScorer.windowAttention(), b, HeadObservation::window, kernel, window, Optional.empty());
    }
}
