package dev.think4j.kv;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Token eviction as one part: a {@link TokenScorer} ranks the kept tokens, a {@link TokenBudget}
 * says how many a head keeps, and the most recent ones are always kept: the top (budget - recent)
 * of the older tokens by score, plus the recent ones. SnapKV, PyramidKV, H2O, StreamingLLM, knorm
 * and random eviction are this press with different parts (see their spec parsers).
 */
public final class EvictionPress implements KvPress {
    private final String spec;
    private final TokenScorer scorer;
    private final TokenBudget budget;
    private final ToIntFunction<HeadObservation> recent;
    private final int poolKernel;
    private final int window;
    private final Optional<Function<double[], DecodeRule>> decode;

    /**
     * @param recent     tokens at the end always kept (capped by the kept count)
     * @param poolKernel odd max-pooling kernel over the older tokens' scores before ranking (1 = none)
     * @param window     observation window the scorer needs (0 when it reads no queries)
     * @param decode     the per-head decode rule, given the kept tokens' scores, for presses that
     *                   keep evicting during decode
     */
    public EvictionPress(String spec, TokenScorer scorer, TokenBudget budget, ToIntFunction<HeadObservation> recent,
                         int poolKernel, int window, Optional<Function<double[], DecodeRule>> decode) {
        this.spec = spec;
        this.scorer = scorer;
        this.budget = budget;
        this.recent = recent;
        this.poolKernel = poolKernel;
        this.window = window;
        this.decode = decode;
    }

    @Override
    public Stage stage() {
        return Stage.EVICT;
    }

    @Override
    public String spec() {
        return spec;
    }

    @Override
    public int window() {
        return window;
    }

    @Override
    public boolean evictsDuringDecode() {
        return decode.isPresent();
    }

    /** Tokens kept per KV head in a layer. */
    public int budget(int layer, int layers) {
        return budget.tokens(layer, layers);
    }

    @Override
    public HeadPlan compress(HeadObservation h, HeadPlan plan) {
        int[] kept = plan.keptTokens();
        int b = budget.tokens(h.layer(), h.layers());
        int r = Math.min(recent.applyAsInt(h), kept.length);
        boolean evict = kept.length > b && r > 0;
        if (!evict && decode.isEmpty()) {
            return plan;
        }
        double[] scores = scorer.scores(h, kept);
        HeadPlan out = plan;
        if (evict) {
            int[] positions = TokenSelection.keepTopAndRecent(scores, kept.length, b, r, poolKernel);
            out = plan.withKeptTokens(TokenSelection.select(kept, positions));
            double[] s = new double[positions.length];
            for (int i = 0; i < positions.length; i++) {
                s[i] = scores[positions[i]];
            }
            scores = s;
        }
        if (decode.isPresent()) {
            out = out.withRule(decode.get().apply(scores));
        }
        return out;
    }
}
