package dev.think4j.kv;

import java.util.Arrays;
import java.util.stream.IntStream;

/** The top-k-plus-recent token selection every eviction press shares. */
final class TokenSelection {
    private TokenSelection() {
    }

    /**
     * Positions (into the kept-token list of {@code total}) to keep under a budget: the last
     * {@code recent}, and the {@code budget - recent} best of the others by score (ties to the earlier
     * token), after max-pooling their scores with {@code poolKernel} (1 = no pooling); increasing.
     */
    static int[] keepTopAndRecent(double[] scores, int total, int budget, int recent, int poolKernel) {
        int candidates = total - recent;
        double[] ranked = poolKernel > 1 ? maxPool(Arrays.copyOf(scores, candidates), poolKernel) : scores;
        return topPlusTail(ranked, candidates, budget - recent, total);
    }

    /**
     * Positions (indices into the kept-token list) of the {@code k} highest scores among the first
     * {@code candidates}, ties to the earlier token, plus every position from {@code candidates} on;
     * increasing.
     */
    static int[] topPlusTail(double[] scores, int candidates, int k, int total) {
        Integer[] order = IntStream.range(0, candidates).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b));
        int take = Math.max(0, Math.min(k, candidates));
        int[] out = new int[take + (total - candidates)];
        for (int i = 0; i < take; i++) {
            out[i] = order[i];
        }
        for (int i = candidates; i < total; i++) {
            out[take + i - candidates] = i;
        }
        Arrays.sort(out);
        return out;
    }

    /** Maps positions in the kept-token list to token indices. */
    static int[] select(int[] kept, int[] positions) {
        int[] out = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            out[i] = kept[positions[i]];
        }
        return out;
    }

    /** Max-pooling along tokens with an odd kernel and same padding. */
    static double[] maxPool(double[] v, int kernel) {
        int half = kernel / 2;
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = Math.max(0, i - half); j <= Math.min(v.length - 1, i + half); j++) {
                m = Math.max(m, v[j]);
            }
            out[i] = m;
        }
        return out;
    }
}
