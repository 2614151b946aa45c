package dev.think4j.kv;

/**
 * Adaptive ThinK ({@code think:budget=R}): one byte budget for the pruned keys of the whole model,
 * shared out per (layer, KV head) where dropping channels hurts most. Each head's channels keep
 * ThinK's ranking; what is chosen is how many each head keeps. The error measured for a head is
 * that of its window queries' attention outputs when the pruned tokens' keys keep only the top k
 * channels (the window itself stays full width, as ThinK stores it), for every k. A greedy
 * allocation then starts every head at the minimum and moves up the head whose error drops most
 * per byte, while the budget lasts.
 */
final class ChannelAllocation {
    private ChannelAllocation() {
    }

    /** What the allocation needs of one head: its pruned-token count and its error for each kept count. */
    record Curve(int prunedTokens, double[] errors) {
    }

    /**
     * Exact bytes of a head's pruned keys with {@code k} of {@code d} channels kept: float32 rows plus
     * the 4-byte index list (no list when every channel is kept, as the cache stores it).
     */
    static long keyBytes(long prunedTokens, int k, int d) {
        if (prunedTokens <= 0) {
            return 0;
        }
        return prunedTokens * k * Float.BYTES + (k < d ? (long) k * Integer.BYTES : 0);
    }

    /**
     * errors[k] for k = 0..D: sum over window rows of ||o_k - o_D||^2, where o_k is the row's
     * attention output (causal, over the kept tokens) when the first {@code prunedTokens} kept tokens
     * keep only the {@code k} best channels of {@code ranking} (ThinK's order).
     */
    static double[] outputErrors(HeadObservation h, int[] kept, int prunedTokens, int[] ranking) {
        int d = h.headDim();
        int w = h.window();
        int n = h.tokenCount();
        float[][] wq = h.windowQueries();
        float[][] keys = h.keys();
        float[][] values = h.values();
        double scale = 1.0 / Math.sqrt(d);
        double[] errors = new double[d + 1];
        double[] p = new double[kept.length];
        double[] o = new double[d];
        for (int r = 0; r < wq.length; r++) {
            int position = n - w + (r % w);
            int visible = 0;
            while (visible < kept.length && kept[visible] <= position) {
                visible++;
            }
            double[] logits = new double[visible];
            for (int i = 0; i < visible; i++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) wq[r][j] * keys[kept[i]][j];
                }
                logits[i] = dot;
            }
            double[] full = output(logits, visible, kept, values, scale, p, new double[d]);
            int pruned = Math.min(prunedTokens, visible);
            for (int k = d - 1; k >= 0; k--) {
                int j = ranking[k];
                for (int i = 0; i < pruned; i++) {
                    logits[i] -= (double) wq[r][j] * keys[kept[i]][j];
                }
                output(logits, visible, kept, values, scale, p, o);
                double e = 0;
                for (int c = 0; c < d; c++) {
                    e += (o[c] - full[c]) * (o[c] - full[c]);
                }
                errors[k] += e;
            }
        }
        return errors;
    }

    private static double[] output(double[] logits, int visible, int[] kept, float[][] values, double scale, double[] p, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < visible; i++) {
            max = Math.max(max, logits[i] * scale);
        }
        double z = 0;
        for (int i = 0; i < visible; i++) {
            p[i] = Math.exp(logits[i] * scale - max);
            z += p[i];
        }
        java.util.Arrays.fill(out, 0);
        for (int i = 0; i < visible; i++) {
            float[] v = values[kept[i]];
            double weight = p[i] / z;
            for (int c = 0; c < out.length; c++) {
                out[c] += weight * v[c];
            }
        }
        return out;
    }

    /**
     * Kept channels per head: every head starts at {@code min} (capped at D); then, while the budget
     * lasts, the head whose error drops most per extra byte moves up. A move may add several
     * channels at once (the best ratio over all larger counts that fit), because a curve need not be
     * convex: one channel of a RoPE pair alone helps little, the pair together a lot. Ties go to the
     * earlier head. Heads with no pruned tokens keep all D (they cost nothing).
     */
    static int[] allocate(Curve[] curves, int d, int min, long budget) {
        int[] keep = new int[curves.length];
        long spent = 0;
        for (int i = 0; i < curves.length; i++) {
            keep[i] = curves[i].prunedTokens() > 0 ? Math.min(min, d) : d;
            spent += keyBytes(curves[i].prunedTokens(), keep[i], d);
        }
        while (true) {
            int best = -1;
            int bestTo = -1;
            double bestGain = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < curves.length; i++) {
                long now = keyBytes(curves[i].prunedTokens(), keep[i], d);
                double[] e = curves[i].errors();
                for (int to = keep[i] + 1; to <= d; to++) {
                    long extra = keyBytes(curves[i].prunedTokens(), to, d) - now;
                    if (spent + extra > budget) {
                        break;
                    }
                    double gain = (e[keep[i]] - e[to]) / Math.max(extra, 1);
                    if (gain > bestGain) {
                        bestGain = gain;
                        best = i;
                        bestTo = to;
                    }
                }
            }
            if (best < 0) {
                return keep;
            }
            spent += keyBytes(curves[best].prunedTokens(), bestTo, d) - keyBytes(curves[best].prunedTokens(), keep[best], d);
            keep[best] = bestTo;
        }
    }
}
