package dev.think4j.eval;

import dev.think4j.kv.CompressedKvCache;
import dev.think4j.kv.HeadCache;
import dev.think4j.kv.KvCache;
import dev.think4j.kv.KvShape;

/**
 * Feeds the same keys, values and queries to a full and a compressed cache. The forward pass runs on
 * the full cache's outputs, so every layer of the compressed cache is judged on identical inputs and
 * errors measured at a layer are that layer's own, not ones carried over from earlier layers.
 */
final class TeeCache implements KvCache {
    private final CompressedKvCache full;
    private final CompressedKvCache compressed;
    private final double[][] sums; // per layer: outErr2, outNorm2, logitErr2, logitNorm2, comparableHeads, heads
    boolean measuring;

    TeeCache(CompressedKvCache full, CompressedKvCache compressed) {
        this.full = full;
        this.compressed = compressed;
        this.sums = new double[full.shape().layers()][6];
    }

    double[][] sums() {
        return sums;
    }

    @Override
    public KvShape shape() {
        return full.shape();
    }

    @Override
    public int position() {
        return full.position();
    }

    @Override
    public void append(int layer, float[] k, int kOff, float[] v, int vOff) {
        full.append(layer, k, kOff, v, vOff);
        compressed.append(layer, k, kOff, v, vOff);
    }

    @Override
    public void attend(int layer, float[] q, int qOff, float[] out, int outOff) {
        full.attend(layer, q, qOff, out, outOff);
        KvShape s = full.shape();
        float[] other = new float[s.queryDim()];
        // always called: the compressed cache records its observation-window queries here
        compressed.attend(layer, q, qOff, other, 0);
        if (!measuring) {
            return;
        }
        double[] acc = sums[layer];
        for (int i = 0; i < s.queryDim(); i++) {
            double d = out[outOff + i] - other[i];
            acc[0] += d * d;
            acc[1] += (double) out[outOff + i] * out[outOff + i];
        }
        int d = s.headDim();
        float[] scratch = new float[d];
        for (int h = 0; h < s.heads(); h++) {
            HeadCache fh = full.head(layer, h / s.groupSize());
            HeadCache ch = compressed.head(layer, h / s.groupSize());
            acc[5]++;
            if (fh.length() != ch.length()) {
                continue; // tokens were evicted: logits no longer pair up token by token
            }
            float[] lf = new float[fh.length()];
            float[] lc = new float[ch.length()];
            fh.scores(q, qOff + h * d, lf, scratch);
            ch.scores(q, qOff + h * d, lc, scratch);
            for (int t = 0; t < lf.length; t++) {
                double e = lf[t] - lc[t];
                acc[2] += e * e;
                acc[3] += (double) lf[t] * lf[t];
            }
            acc[4]++;
        }
    }

    @Override
    public void advance(int tokens) {
        full.advance(tokens);
        compressed.advance(tokens);
    }

    @Override
    public void endPrefill() {
        full.endPrefill();
        compressed.endPrefill();
    }

    @Override
    public long bytes() {
        return compressed.bytes();
    }

    @Override
    public void clear() {
        full.clear();
        compressed.clear();
    }
}
