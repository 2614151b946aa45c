package dev.think4j.kv;

import java.util.Arrays;
import java.util.stream.IntStream;

/** Top-k token selection shared by the eviction presses. */
final class TokenSelection {
    private TokenSelection() {
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
