package dev.think4j.kv;

/**
 * The obviously-correct computation compressed caches are checked against: plain attention over
 * full-width float keys and values in which the pruned channels of pruned tokens are zero.
 */
final class DenseReference {
    private DenseReference() {
    }

    /**
     * @param keys       [tokens][D] full-width keys
     * @param values     [tokens][D] full-width values
     * @param pruned     number of leading tokens stored narrowed
     * @param keyKept    kept key channels for those tokens (null = all)
     * @param valueKept  kept value channels for those tokens (null = all)
     */
    static double[] attend(float[] q, float[][] keys, float[][] values, int pruned, int[] keyKept, int[] valueKept) {
        int n = keys.length;
        int d = q.length;
        double[] logits = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double k = t < pruned && keyKept != null && !contains(keyKept, j) ? 0 : keys[t][j];
                s += q[j] * k;
            }
            logits[t] = s / Math.sqrt(d);
            max = Math.max(max, logits[t]);
        }
        double z = 0;
        for (int t = 0; t < n; t++) {
            logits[t] = Math.exp(logits[t] - max);
            z += logits[t];
        }
        double[] out = new double[d];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < d; j++) {
                double v = t < pruned && valueKept != null && !contains(valueKept, j) ? 0 : values[t][j];
                out[j] += logits[t] / z * v;
            }
        }
        return out;
    }

    static boolean contains(int[] a, int x) {
        for (int v : a) {
            if (v == x) {
                return true;
            }
        }
        return false;
    }
}
