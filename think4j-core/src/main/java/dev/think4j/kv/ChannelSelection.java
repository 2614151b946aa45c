package dev.think4j.kv;

import java.util.Arrays;
import java.util.stream.IntStream;

/** Channel scores and top-k selection shared by the channel-pruning presses. */
public final class ChannelSelection {
    private ChannelSelection() {
    }

    /** Channels kept for a pruning ratio: D - floor(lambda * D). */
    public static int keepCount(int headDim, double lambda) {
        return headDim - (int) Math.floor(lambda * headDim);
    }

    /** Sum over rows of x[row][j]^2, per channel j (in double: sums over long contexts). */
    public static double[] squaredNorms(float[][] rows, int width) {
        double[] out = new double[width];
        for (float[] r : rows) {
            for (int j = 0; j < width; j++) {
                out[j] += (double) r[j] * r[j];
            }
        }
        return out;
    }

    /**
     * ThinK's key-channel score: (sum over window queries of q_j^2) * (sum over cached keys of k_j^2),
     * the squared product of the two column norms (same ranking as ||Q_win[:,j] K[:,j]^T||_F).
     */
    public static double[] thinkScores(HeadCompression h) {
        int d = h.headDim();
        double[] q = squaredNorms(h.windowQueries(), d);
        double[] k = squaredNorms(h.keptKeys(), d);
        double[] s = new double[d];
        for (int j = 0; j < d; j++) {
            s[j] = q[j] * k[j];
        }
        return s;
    }

    /** The query-agnostic baseline: sum over cached keys of k_j^2. */
    public static double[] keyNormScores(HeadCompression h) {
        return squaredNorms(h.keptKeys(), h.headDim());
    }

    /** Indices of the {@code keep} highest scores (ties: lower index first), sorted ascending. */
    public static int[] top(double[] scores, int keep) {
        Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> scores[a] != scores[b] ? Double.compare(scores[b], scores[a]) : Integer.compare(a, b));
        int[] kept = new int[keep];
        for (int i = 0; i < keep; i++) {
            kept[i] = order[i];
        }
        Arrays.sort(kept);
        return kept;
    }

    /**
     * ThinK's value-channel score: || softmax(Q_win K^T / sqrt(D)) V[:, j] || over all window rows,
     * causal (a window query at prompt position p sees kept tokens at positions <= p).
     */
    public static double[] valueScores(HeadCompression h) {
        int d = h.headDim();
        int[] kept = h.keptTokens();
        float[][] values = h.values();
        double[] sumSq = new double[d];
        double[] out = new double[d];
        for (double[] row : WindowAttention.probabilities(h)) {
            java.util.Arrays.fill(out, 0);
            for (int i = 0; i < kept.length; i++) {
                if (row[i] != 0) {
                    float[] v = values[kept[i]];
                    for (int j = 0; j < d; j++) {
                        out[j] += row[i] * v[j];
                    }
                }
            }
            for (int j = 0; j < d; j++) {
                sumSq[j] += out[j] * out[j];
            }
        }
        for (int j = 0; j < d; j++) {
            sumSq[j] = Math.sqrt(sumSq[j]);
        }
        return sumSq;
    }
}
