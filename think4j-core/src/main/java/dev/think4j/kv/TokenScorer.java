package dev.think4j.kv;

import java.util.SplittableRandom;

/** Scores the kept tokens of one head from what was observed there: higher = more worth keeping. */
@FunctionalInterface
public interface TokenScorer {
    double[] scores(HeadObservation head, int[] keptTokens);

    /** SnapKV and H2O: the attention the window queries paid each token, summed over window rows. */
    static TokenScorer windowAttention() {
        return (h, kept) -> WindowAttention.columnSums(WindowAttention.probabilities(h, kept), kept.length);
    }

    /**
     * The L2-norm strategy (Devoto et al., 2024): keys with a low norm draw high attention, so the
     * lowest-norm tokens are kept. Needs no queries.
     */
    static TokenScorer lowKeyNorm() {
        return (h, kept) -> {
            double[] s = new double[kept.length];
            for (int i = 0; i < kept.length; i++) {
                double sum = 0;
                for (float x : h.keys()[kept[i]]) {
                    sum += (double) x * x;
                }
                s[i] = -Math.sqrt(sum);
            }
            return s;
        };
    }

    /** Uniform random scores, reproducible per (seed, layer, KV head). */
    static TokenScorer random(long seed) {
        return (h, kept) -> {
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + h.layer() * 0x632BE59BD9B4E019L + h.kvHead());
            double[] s = new double[kept.length];
            for (int i = 0; i < kept.length; i++) {
                s[i] = rnd.nextDouble();
            }
            return s;
        };
    }

    /** StreamingLLM's attention sinks: the first {@code sinks} kept tokens outrank all others. */
    static TokenScorer firstTokens(int sinks) {
        return (h, kept) -> {
            double[] s = new double[kept.length];
            for (int i = 0; i < Math.min(sinks, kept.length); i++) {
                s[i] = 1;
            }
            return s;
        };
    }
}
