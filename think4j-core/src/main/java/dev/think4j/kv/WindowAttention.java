package dev.think4j.kv;

/**
 * Attention of the observation-window queries over the kept tokens at a compression point:
 * softmax(q . k / sqrt(D)) per window row, causal (a window query at prompt position p sees kept
 * tokens at positions <= p). Row r is group head r / window at window position r % window.
 */
final class WindowAttention {
    private WindowAttention() {
    }

    /** [window rows][kept tokens] probabilities (zero where masked). */
    static double[][] probabilities(HeadCompression h) {
        int d = h.headDim();
        int w = h.window();
        int[] kept = h.keptTokens();
        float[][] keys = h.keys();
        float[][] wq = h.windowQueries();
        int n = h.tokenCount();
        double scale = 1.0 / Math.sqrt(d);
        double[][] p = new double[wq.length][kept.length];
        for (int r = 0; r < wq.length; r++) {
            int position = n - w + (r % w);
            double max = Double.NEGATIVE_INFINITY;
            int visible = 0;
            for (int i = 0; i < kept.length && kept[i] <= position; i++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) wq[r][j] * keys[kept[i]][j];
                }
                p[r][i] = dot * scale;
                max = Math.max(max, p[r][i]);
                visible++;
            }
            double z = 0;
            for (int i = 0; i < visible; i++) {
                p[r][i] = Math.exp(p[r][i] - max);
                z += p[r][i];
            }
            for (int i = 0; i < visible; i++) {
                p[r][i] /= z;
            }
        }
        return p;
    }

    /** Attention each kept token received, summed over all window rows. */
    static double[] columnSums(double[][] p, int kept) {
        double[] s = new double[kept];
        for (double[] row : p) {
            for (int i = 0; i < kept; i++) {
                s[i] += row[i];
            }
        }
        return s;
    }
}
