package dev.think4j.kv;

/** How many tokens a KV head of a layer keeps after eviction: the same everywhere, or a per-layer schedule. */
@FunctionalInterface
public interface TokenBudget {
    int tokens(int layer, int layers);

    static TokenBudget uniform(int tokens) {
        return (layer, layers) -> tokens;
    }

    /**
     * PyramidKV: layer 0 gets 1.5x the budget, the last 0.5x, linear in between, never below
     * window + 1, so the total over layers is about unchanged.
     */
    static TokenBudget pyramid(int tokens, int window) {
        return (layer, layers) -> {
            if (layers == 1) {
                return tokens;
            }
            double f = 1.5 - (double) layer / (layers - 1);
            return Math.max(window + 1, (int) Math.round(tokens * f));
        };
    }
}
