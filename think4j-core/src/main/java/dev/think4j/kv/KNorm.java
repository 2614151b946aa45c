package dev.think4j.kv;

import java.util.Optional;

/**
 * Query-agnostic key-norm eviction (Devoto et al., "A Simple and Effective L2 Norm-Based Strategy
 * for KV Cache Compression", 2024): keys with a low L2 norm tend to draw high attention, so each KV
 * head keeps the (budget - W) older tokens whose keys have the lowest norm, plus the last W. It
 * reads no queries, so it needs no observation window.
 */
final class KNorm {
    private KNorm() {
    }

    /** {@code knorm:BUDGET[,window=32]}. */
    static EvictionPress parse(SpecArgs a) {
        a.maxPositional(1);
        a.allowOnly("window");
        int budget = a.integer(0);
        int window = a.integer("window", KvPolicy.DEFAULT_WINDOW);
        RandomEviction.checkBudget(a, budget, window);
        String spec = "knorm:" + budget + (window != KvPolicy.DEFAULT_WINDOW ? ",window=" + window : "");
        return new EvictionPress(spec, TokenScorer.lowKeyNorm(), TokenBudget.uniform(budget), h -> window, 1, 0, Optional.empty());
    }
}
