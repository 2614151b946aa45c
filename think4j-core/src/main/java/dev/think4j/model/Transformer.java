package dev.think4j.model;

import dev.think4j.kv.KvCache;
import dev.think4j.tensor.FloatTensor;
import dev.think4j.tensor.Parallel;

/**
 * The Llama-family forward pass (llama, qwen2, qwen3). Tokens go through in chunks: every matrix
 * product runs once per chunk (rows reused across the chunk's tokens), attention runs token by token
 * against the {@link KvCache}, which is the only place keys and values live.
 */
public final class Transformer {
    private final ModelConfig c;
    private final Weights w;
    private final int chunk;

    // per-chunk activations, [chunk x width] row-major
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] att;
    private final float[] hGate;
    private final float[] hUp;
    private final float[] cos;
    private final float[] sin;
    private final double[] invFreq;

    public Transformer(ModelConfig config, Weights weights, int chunkSize) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be >= 1");
        }
        this.c = config;
        this.w = weights;
        this.chunk = chunkSize;
        x = new float[chunk * c.dim()];
        xb = new float[chunk * Math.max(c.dim(), c.queryDim())];
        q = new float[chunk * c.queryDim()];
        k = new float[chunk * c.kvDim()];
        v = new float[chunk * c.kvDim()];
        att = new float[chunk * c.queryDim()];
        hGate = new float[chunk * c.hiddenDim()];
        hUp = new float[chunk * c.hiddenDim()];
        cos = new float[c.ropeDim() / 2];
        sin = new float[c.ropeDim() / 2];
        invFreq = new double[c.ropeDim() / 2];
        for (int i = 0; i < invFreq.length; i++) {
            double f = Math.pow(c.ropeTheta(), -2.0 * i / c.ropeDim());
            if (weights.ropeFreqFactors() != null) {
                f /= weights.ropeFreqFactors()[i];
            }
            invFreq[i] = f;
        }
    }

    public ModelConfig config() {
        return c;
    }

    public int chunkSize() {
        return chunk;
    }

    /**
     * Runs {@code n} tokens starting at {@code tokens[from]} through the model, appending to the cache.
     * Writes logits of the last token to {@code lastLogits} (vocab floats) when non-null, and of every
     * token to {@code allLogits} ([n x vocab]) when non-null.
     */
    public void forward(int[] tokens, int from, int n, KvCache cache, float[] lastLogits, float[] allLogits) {
        for (int done = 0; done < n; done += chunk) {
            int m = Math.min(chunk, n - done);
            forwardChunk(tokens, from + done, m, cache);
            if (allLogits != null) {
                logits(m, allLogits, done * c.vocabSize(), false);
            }
        }
        if (lastLogits != null) {
            int lastInChunk = (n - 1) % chunk;
            float[] row = new float[c.dim()];
            System.arraycopy(x, lastInChunk * c.dim(), row, 0, c.dim());
            rmsnorm(row, 0, row, 0, w.outputNorm(), c.dim());
            w.output().matvec(row, lastLogits, c.vocabSize(), c.dim());
        }
    }

    /** Logits of the chunk's m rows into out[outOff ..]; row-wise products keep batched decode exact. */
    private void logits(int m, float[] out, int outOff, boolean rowwise) {
        float[] normed = new float[m * c.dim()];
        for (int t = 0; t < m; t++) {
            rmsnorm(normed, t * c.dim(), x, t * c.dim(), w.outputNorm(), c.dim());
        }
        float[] tmp = outOff == 0 && out.length == m * c.vocabSize() ? out : new float[m * c.vocabSize()];
        mul(w.output(), rowwise, normed, tmp, m, c.vocabSize(), c.dim());
        if (tmp != out) {
            System.arraycopy(tmp, 0, out, outOff, m * c.vocabSize());
        }
    }

    /**
     * One decode step for several independent sequences at once (continuous batching): row i feeds
     * {@code tokens[i]} to {@code caches[i]}. The weights are read once for the whole batch; attention
     * runs per sequence on its own cache. Writes [n x vocab] logits.
     */
    public void forwardBatch(int[] tokens, KvCache[] caches, float[] logits) {
        int n = tokens.length;
        if (n > chunk) {
            throw new IllegalArgumentException("batch of " + n + " exceeds this transformer's chunk size " + chunk);
        }
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = caches[i].position();
        }
        embed(tokens, 0, n);
        runLayers(n, caches, positions, true);
        for (KvCache cache : caches) {
            cache.advance(1);
        }
        logits(n, logits, 0, true);
    }

    private void forwardChunk(int[] tokens, int from, int m, KvCache cache) {
        KvCache[] caches = new KvCache[m];
        int[] positions = new int[m];
        int start = cache.position();
        for (int t = 0; t < m; t++) {
            caches[t] = cache;
            positions[t] = start + t;
        }
        embed(tokens, from, m);
        runLayers(m, caches, positions, false);
        cache.advance(m);
    }

    private void embed(int[] tokens, int from, int m) {
        int dim = c.dim();
        for (int t = 0; t < m; t++) {
            int token = tokens[from + t];
            if (token < 0 || token >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside vocabulary of " + c.vocabSize());
            }
            w.tokenEmbedding().dequantize((long) token * dim, x, t * dim, dim);
        }
    }

    /** All transformer blocks for m rows; row t belongs to caches[t] at RoPE position positions[t]. */
    private void runLayers(int m, KvCache[] caches, int[] positions, boolean rowwise) {
        int dim = c.dim();
        int qd = c.queryDim();
        int kvd = c.kvDim();
        int hd = c.headDim();
        int hidden = c.hiddenDim();
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers()[l];
            for (int t = 0; t < m; t++) {
                rmsnorm(xb, t * dim, x, t * dim, lw.attnNorm(), dim);
            }
            mul(lw.wq(), rowwise, xb, q, m, qd, dim);
            mul(lw.wk(), rowwise, xb, k, m, kvd, dim);
            mul(lw.wv(), rowwise, xb, v, m, kvd, dim);
            for (int t = 0; t < m; t++) {
                if (lw.bq() != null) {
                    addInPlace(q, t * qd, lw.bq());
                    addInPlace(k, t * kvd, lw.bk());
                    addInPlace(v, t * kvd, lw.bv());
                }
                if (lw.qNorm() != null) {
                    for (int h = 0; h < c.heads(); h++) {
                        rmsnorm(q, t * qd + h * hd, q, t * qd + h * hd, lw.qNorm(), hd);
                    }
                    for (int h = 0; h < c.kvHeads(); h++) {
                        rmsnorm(k, t * kvd + h * hd, k, t * kvd + h * hd, lw.kNorm(), hd);
                    }
                }
                ropeAngles(positions[t]);
                for (int h = 0; h < c.heads(); h++) {
                    rope(q, t * qd + h * hd);
                }
                for (int h = 0; h < c.kvHeads(); h++) {
                    rope(k, t * kvd + h * hd);
                }
                caches[t].append(l, k, t * kvd, v, t * kvd);
                caches[t].attend(l, q, t * qd, att, t * qd);
            }
            mul(lw.wo(), rowwise, att, xb, m, dim, qd);
            addInPlace(x, xb, m * dim);
            for (int t = 0; t < m; t++) {
                rmsnorm(xb, t * dim, x, t * dim, lw.ffnNorm(), dim);
            }
            mul(lw.wGate(), rowwise, xb, hGate, m, hidden, dim);
            mul(lw.wUp(), rowwise, xb, hUp, m, hidden, dim);
            swiglu(m * hidden);
            mul(lw.wDown(), rowwise, hGate, xb, m, dim, hidden);
            addInPlace(x, xb, m * dim);
        }
    }

    private static void mul(FloatTensor w, boolean rowwise, float[] x, float[] out, int n, int rows, int cols) {
        if (rowwise) {
            w.matmulRowwise(x, out, n, rows, cols);
        } else {
            w.matmul(x, out, n, rows, cols);
        }
    }

    /** hGate = silu(hGate) * hUp, split over threads when large. */
    private void swiglu(int total) {
        int parts = total >= 1 << 14 ? Parallel.threads() : 1;
        Parallel.forRange(parts, part -> {
            int lo = (int) ((long) total * part / parts);
            int hi = (int) ((long) total * (part + 1) / parts);
            for (int i = lo; i < hi; i++) {
                float g = hGate[i];
                hGate[i] = g / (1f + (float) Math.exp(-g)) * hUp[i];
            }
        });
    }

    private void ropeAngles(int pos) {
        double p = pos / (double) c.ropeScale();
        for (int i = 0; i < invFreq.length; i++) {
            double a = p * invFreq[i];
            cos[i] = (float) Math.cos(a);
            sin[i] = (float) Math.sin(a);
        }
    }

    private void rope(float[] vec, int off) {
        int half = c.ropeDim() / 2;
        for (int i = 0; i < half; i++) {
            int a;
            int b;
            if (c.ropeNeox()) {
                a = off + i;
                b = off + i + half;
            } else {
                a = off + 2 * i;
                b = a + 1;
            }
            float x0 = vec[a];
            float x1 = vec[b];
            vec[a] = x0 * cos[i] - x1 * sin[i];
            vec[b] = x0 * sin[i] + x1 * cos[i];
        }
    }

    private void rmsnorm(float[] out, int outOff, float[] in, int inOff, float[] weight, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            float val = in[inOff + i];
            ss += val * val;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + c.rmsEps()));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = in[inOff + i] * scale * weight[i];
        }
    }

    private static void addInPlace(float[] a, int off, float[] b) {
        for (int i = 0; i < b.length; i++) {
            a[off + i] += b[i];
        }
    }

    private static void addInPlace(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] += b[i];
        }
    }
}
