package dev.think4j.kv;

/**
 * SnapKV: at the end of prefill, the window queries' attention over the prefix, summed over window
 * positions and the query heads of each KV head, max-pooled along tokens, picks the (budget - W)
 * prefix tokens each KV head keeps; the window itself is always kept. PyramidKV is the same with
 * per-layer budgets that shrink with depth (layer 0 gets 1.5x the budget, the last 0.5x, linear in
 * between, never below the window), so the total over layers is unchanged.
 */
public final class SnapKvPress implements KvPress {
    private final String name;
    private final int budget;
    private final int window;
    private final int kernel;
    private final boolean pyramid;

    public SnapKvPress(String name, int budget, int window, int kernel, boolean pyramid) {
        this.name = name;
        this.budget = budget;
        this.window = window;
        this.kernel = kernel;
        this.pyramid = pyramid;
    }

    static SnapKvPress parse(SpecArgs a, boolean pyramid) {
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
        return new SnapKvPress(pyramid ? "pyramidkv" : "snapkv", budget, window, kernel, pyramid);
    }

    @Override
    public Stage stage() {
        return Stage.EVICT;
    }

    @Override
    public String spec() {
        return name + ":" + budget + (window != KvPolicy.DEFAULT_WINDOW ? ",window=" + window : "")
                + (kernel != 7 ? ",kernel=" + kernel : "");
    }

    @Override
    public int window() {
        return window;
    }

    /** Tokens kept per KV head in a layer. */
    public int budget(int layer, int layers) {
        if (!pyramid || layers == 1) {
            return budget;
        }
        double f = 1.5 - (double) layer / (layers - 1);
        return Math.max(window + 1, (int) Math.round(budget * f));
    }

    @Override
    public void compress(HeadCompression h) {
        int[] kept = h.keptTokens();
        int b = budget(h.layer(), h.layers());
        int w = Math.min(h.window(), kept.length);
        if (kept.length <= b || w == 0) {
            return;
        }
        int prefix = kept.length - w;
        double[] scores = WindowAttention.columnSums(WindowAttention.probabilities(h), kept.length);
        double[] pooled = TokenSelection.maxPool(java.util.Arrays.copyOf(scores, prefix), kernel);
        h.setKeptTokens(TokenSelection.select(kept, TokenSelection.topPlusTail(pooled, prefix, b - w, kept.length)));
    }
}
