package dev.think4j.kv;

import java.util.Optional;

/**
 * Random eviction, the floor every scored method should beat: each KV head keeps (budget - W) of
 * its older tokens drawn uniformly (reproducible per seed, layer and head), plus the last W.
 */
final class RandomEviction {
    private RandomEviction() {
    }

    /** {@code random:BUDGET[,window=32,seed=0]}. */
    static EvictionPress parse(SpecArgs a) {
        a.maxPositional(1);
        a.allowOnly("window", "seed");
        int budget = a.integer(0);
        int window = a.integer("window", KvPolicy.DEFAULT_WINDOW);
        int seed = a.integer("seed", 0);
        checkBudget(a, budget, window);
        String spec = "random:" + budget + (window != KvPolicy.DEFAULT_WINDOW ? ",window=" + window : "")
                + (seed != 0 ? ",seed=" + seed : "");
        return new EvictionPress(spec, TokenScorer.random(seed), TokenBudget.uniform(budget), h -> window, 1, 0, Optional.empty());
    }

    static void checkBudget(SpecArgs a, int budget, int window) {
        if (window < 1) {
            throw a.error("window must be >= 1, got " + window);
        }
        if (budget <= window) {
            throw a.error("budget (tokens kept per KV head) must exceed the window " + window + ", got " + budget);
        }
    }
}
