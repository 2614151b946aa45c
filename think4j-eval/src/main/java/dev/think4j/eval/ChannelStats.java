package dev.think4j.eval;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.HeadCompression;
import dev.think4j.kv.KvShape;

/**
 * What makes key channels prunable: a few channels carry most of the key magnitude, and the
 * attention logits Q K^T of the observation window have a fast-decaying singular-value spectrum.
 * Both are read from a cache that has been prefilled but not yet compressed.
 */
public final class ChannelStats {
    private ChannelStats() {
    }

    /** |k| per layer: [layer][token][kvHead * headDim + channel]. */
    public static double[][][] keyMagnitudes(CompressedKvCache cache) {
        KvShape s = cache.shape();
        double[][][] out = new double[s.layers()][][];
        for (int l = 0; l < s.layers(); l++) {
            int n = cache.head(l, 0).tailLength();
            out[l] = new double[n][s.kvDim()];
            float[] row = new float[s.headDim()];
            for (int g = 0; g < s.kvHeads(); g++) {
                for (int t = 0; t < n; t++) {
                    cache.head(l, g).tailKeys().row(t, row, 0);
                    for (int j = 0; j < s.headDim(); j++) {
                        out[l][t][g * s.headDim() + j] = Math.abs(row[j]);
                    }
                }
            }
        }
        return out;
    }

    /** Mean over rows of a [rows][cols] matrix, per column. */
    public static double[] columnMeans(double[][] m) {
        double[] out = new double[m.length == 0 ? 0 : m[0].length];
        for (double[] r : m) {
            for (int j = 0; j < out.length; j++) {
                out[j] += r[j] / m.length;
            }
        }
        return out;
    }

    /** Averages consecutive rows so that at most {@code maxRows} remain (keeps tall heatmaps legible). */
    public static double[][] poolRows(double[][] m, int maxRows) {
        if (m.length <= maxRows) {
            return m;
        }
        double[][] out = new double[maxRows][];
        for (int b = 0; b < maxRows; b++) {
            int from = (int) ((long) b * m.length / maxRows);
            int to = (int) ((long) (b + 1) * m.length / maxRows);
            double[][] slice = java.util.Arrays.copyOfRange(m, from, to);
            out[b] = columnMeans(slice);
        }
        return out;
    }

    /**
     * Singular values (descending, divided by the largest) of the window logits Q_win K^T of one layer,
     * averaged over its query heads. Needs a cache whose policy records a window.
     */
    public static double[] logitSpectrum(CompressedKvCache cache, int layer) {
        KvShape s = cache.shape();
        double[] mean = null;
        int heads = 0;
        for (int g = 0; g < s.kvHeads(); g++) {
            HeadCompression v = cache.compressionView(layer, g);
            int w = v.window();
            for (int h = 0; h < v.groupSize(); h++) {
                double[][] m = new double[w][v.tokenCount()];
                for (int i = 0; i < w; i++) {
                    float[] q = v.windowQueries()[h * w + i];
                    for (int t = 0; t < v.tokenCount(); t++) {
                        double dot = 0;
                        for (int j = 0; j < q.length; j++) {
                            dot += q[j] * v.keys()[t][j];
                        }
                        m[i][t] = dot;
                    }
                }
                double[] sv = singularValues(m);
                if (sv.length == 0 || sv[0] == 0) {
                    continue;
                }
                if (mean == null) {
                    mean = new double[sv.length];
                }
                for (int i = 0; i < sv.length; i++) {
                    mean[i] += sv[i] / sv[0];
                }
                heads++;
            }
        }
        if (mean == null) {
            return new double[0];
        }
        for (int i = 0; i < mean.length; i++) {
            mean[i] /= heads;
        }
        return mean;
    }

    /** Singular values of a rows x cols matrix, descending: square roots of the eigenvalues of M M^T. */
    public static double[] singularValues(double[][] m) {
        int r = m.length;
        double[][] g = new double[r][r];
        for (int i = 0; i < r; i++) {
            for (int j = i; j < r; j++) {
                double dot = 0;
                for (int t = 0; t < m[i].length; t++) {
                    dot += m[i][t] * m[j][t];
                }
                g[i][j] = dot;
                g[j][i] = dot;
            }
        }
        double[] ev = SymmetricEigen.eigenvalues(g);
        double[] sv = new double[r];
        for (int i = 0; i < r; i++) {
            sv[i] = Math.sqrt(Math.max(0, ev[r - 1 - i]));
        }
        return sv;
    }
}
