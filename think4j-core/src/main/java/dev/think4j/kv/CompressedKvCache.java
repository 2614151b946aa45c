package dev.think4j.kv;

import dev.think4j.tensor.Parallel;

/**
 * The KV cache: one {@link HeadCache} per (layer, KV head), compressed at the end of each prefill by
 * the configured {@link KvPolicy}. With an empty policy it is the plain dense cache.
 */
public final class CompressedKvCache implements KvCache {
    /** Below this much attention work per layer and token, threads cost more than they save. */
    private static final long PARALLEL_WORK = 1L << 18;

    private final KvShape shape;
    private final KvPolicy policy;
    /** Presses fed decode attention; computed once since attend() runs per head, layer and token. */
    private final java.util.List<KvPress> observers;
    private final HeadCache[][] heads;
    private final float scale;
    private final int window;
    /** Ring buffer per layer of the last {@code window} query vectors (post-RoPE). */
    private final float[][] windowQueries;
    private final int[] windowCount;
    private int position;
    private int generated;
    /** Decode-time hooks (eviction, flushing, attention observers) start after the first prefill. */
    private boolean prefilled;
    private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[2][]);

    public CompressedKvCache(KvShape shape, KvPolicy policy) {
        this.shape = shape;
        this.policy = policy;
        this.observers = policy.presses().stream().filter(KvPress::observesAttention).toList();
        this.heads = new HeadCache[shape.layers()][shape.kvHeads()];
        for (int l = 0; l < shape.layers(); l++) {
            for (int g = 0; g < shape.kvHeads(); g++) {
                heads[l][g] = new HeadCache(l, g, shape.headDim());
            }
        }
        this.scale = (float) (1.0 / Math.sqrt(shape.headDim()));
        this.window = policy.window();
        this.windowQueries = new float[shape.layers()][window * shape.queryDim()];
        this.windowCount = new int[shape.layers()];
    }

    public static CompressedKvCache dense(KvShape shape) {
        return new CompressedKvCache(shape, KvPolicy.none());
    }

    @Override
    public KvShape shape() {
        return shape;
    }

    public KvPolicy policy() {
        return policy;
    }

    public HeadCache head(int layer, int kvHead) {
        return heads[layer][kvHead];
    }

    @Override
    public int position() {
        return position;
    }

    /** Lets a press re-base positions (StreamingLLM assigns positions within the cache). */
    public void setPosition(int position) {
        this.position = position;
    }

    @Override
    public void append(int layer, float[] k, int kOff, float[] v, int vOff) {
        int d = shape.headDim();
        for (int g = 0; g < shape.kvHeads(); g++) {
            heads[layer][g].append(k, kOff + g * d, v, vOff + g * d);
        }
    }

    @Override
    public void attend(int layer, float[] q, int qOff, float[] out, int outOff) {
        if (window > 0) {
            int qd = shape.queryDim();
            int slot = windowCount[layer] % window;
            System.arraycopy(q, qOff, windowQueries[layer], slot * qd, qd);
            windowCount[layer]++;
        }
        int d = shape.headDim();
        int group = shape.groupSize();
        HeadCache[] layerHeads = heads[layer];
        long work = (long) shape.heads() * layerHeads[0].length() * d;
        if (work >= PARALLEL_WORK) {
            Parallel.forRange(shape.kvHeads(), g -> attendGroup(layerHeads[g], q, qOff + g * group * d, out, outOff + g * group * d));
        } else {
            for (int g = 0; g < shape.kvHeads(); g++) {
                attendGroup(layerHeads[g], q, qOff + g * group * d, out, outOff + g * group * d);
            }
        }
    }

    /** The query heads of one KV head together, so its keys and values are read once per token. */
    private void attendGroup(HeadCache head, float[] q, int qOff, float[] out, int outOff) {
        float[][] s = scratch.get();
        int group = shape.groupSize();
        int n = head.length();
        if (s[0] == null || s[0].length < group * n) {
            s[0] = new float[Math.max(n, 256) * group * 3 / 2];
        }
        if (s[1] == null || s[1].length < group * shape.headDim()) {
            s[1] = new float[group * shape.headDim()];
        }
        head.attend(q, qOff, group, out, outOff, scale, s[0], s[1]);
        if (prefilled && !observers.isEmpty()) {
            synchronized (head) {
                for (int i = 0; i < group; i++) {
                    for (KvPress p : observers) {
                        p.observeAttention(head, s[0], i * n, n);
                    }
                }
            }
        }
    }

    @Override
    public void advance(int tokens) {
        position += tokens;
        generated += tokens;
        if (policy.isNone() || !prefilled) {
            return;
        }
        for (HeadCache[] layer : heads) {
            for (HeadCache head : layer) {
                for (KvPress p : policy.presses()) {
                    p.afterToken(head, generated);
                }
            }
        }
    }

    @Override
    public void endPrefill() {
        generated = 0;
        prefilled = true;
        if (policy.isNone()) {
            java.util.Arrays.fill(windowCount, 0);
            return;
        }
        int total = shape.layers() * shape.kvHeads();
        Parallel.forRange(total, i -> compressHead(i / shape.kvHeads(), i % shape.kvHeads()));
        java.util.Arrays.fill(windowCount, 0);
    }

    /** Builds the compression view of one head from its dense tail and the recorded window. */
    public HeadCompression compressionView(int layer, int g) {
        HeadCache head = heads[layer][g];
        int n = head.tailLength();
        int d = shape.headDim();
        float[][] keys = new float[n][d];
        float[][] values = new float[n][d];
        for (int t = 0; t < n; t++) {
            head.tailKeys().row(t, keys[t], 0);
            head.tailValues().row(t, values[t], 0);
        }
        int w = Math.min(window, windowCount[layer]);
        int group = shape.groupSize();
        float[][] wq = new float[group * w][d];
        int qd = shape.queryDim();
        for (int h = 0; h < group; h++) {
            int qh = g * group + h;
            for (int t = 0; t < w; t++) {
                // oldest first: the slot of the t-th of the last w recorded queries
                int slot = (windowCount[layer] - w + t) % window;
                System.arraycopy(windowQueries[layer], slot * qd + qh * d, wq[h * w + t], 0, d);
            }
        }
        return new HeadCompression(layer, g, keys, values, wq, w, group, shape.layers());
    }

    private void compressHead(int layer, int g) {
        HeadCompression view = compressionView(layer, g);
        for (KvPress p : policy.presses()) {
            p.compress(view);
        }
        heads[layer][g].apply(view);
    }

    /** Most tokens any (layer, KV head) holds: what counts against the context window. */
    public int maxLength() {
        int m = 0;
        for (HeadCache[] layer : heads) {
            for (HeadCache h : layer) {
                m = Math.max(m, h.length());
            }
        }
        return m;
    }

    @Override
    public long bytes() {
        long b = 0;
        for (HeadCache[] layer : heads) {
            for (HeadCache h : layer) {
                b += h.bytes();
            }
        }
        return b;
    }

    @Override
    public void clear() {
        for (int l = 0; l < shape.layers(); l++) {
            for (int g = 0; g < shape.kvHeads(); g++) {
                heads[l][g].release();
                heads[l][g] = new HeadCache(l, g, shape.headDim());
            }
        }
        java.util.Arrays.fill(windowCount, 0);
        position = 0;
        generated = 0;
        prefilled = false;
    }
}
