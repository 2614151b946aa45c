package dev.think4j.kv;

import dev.think4j.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The KV cache: one {@link HeadCache} per (layer, KV head), compressed at the end of each prefill by
 * the configured {@link KvPolicy}. With an empty policy it is the plain dense cache.
 *
 * <p>A compression point, per head: observe it ({@link HeadObservation}: its keys, values and the
 * window queries), let each press of the policy narrow a {@link HeadPlan}, and have the head carry
 * the plan out. Between decoded tokens the head runs the {@link DecodeRule}s its plan brought.
 *
 * <p>Sliding-window layers ({@link KvShape#window(int)} > 0, Gemma 3's local layers) hold at most
 * their window: each append frees the tokens that fell out of it (they are removed from storage,
 * not masked; see {@link HeadCache}), so attention there is exactly attention over the last
 * {@code window} positions. On those layers the policy applies as follows (see {@link #pressesFor(int)}):
 * <ul>
 *   <li>channel pruning (ThinK, keynorm, adaptive {@code think:budget=R}, whose shared budget counts
 *       these layers' heads like any other) works as on any layer: it prunes the channels of the
 *       window's tokens older than its own observation window, and {@code flush=N} moves generated
 *       ones too;</li>
 *   <li>eviction ({@link EvictionPress}: SnapKV, PyramidKV, H2O, StreamingLLM, knorm, random) is not
 *       applied: the model's window already is the eviction there, and the cache does not track
 *       positions of kept tokens, so a budget inside the window would make the "oldest token" of
 *       later drops no longer the oldest position. Their plans bring no {@link DecodeRule}s there,
 *       so H2O's attention observer never runs on these layers either;</li>
 *   <li>q8_0 / q4_0 apply (their rows can be dropped one by one); KIVI does not, since its keys are
 *       quantized per channel over groups of tokens that cannot lose their oldest token alone.</li>
 * </ul>
 */
public final class CompressedKvCache implements KvCache {
    /** Below this much attention work per layer and token, threads cost more than they save. */
    private static final long PARALLEL_WORK = 1L << 18;

    private final KvShape shape;
    private final KvPolicy policy;
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
        this.heads = new HeadCache[shape.layers()][shape.kvHeads()];
        for (int l = 0; l < shape.layers(); l++) {
            for (int g = 0; g < shape.kvHeads(); g++) {
                heads[l][g] = new HeadCache(l, g, shape.headDim(), shape.window(l));
            }
        }
        this.scale = (float) (1.0 / Math.sqrt(shape.headDim()));
        this.window = policy.window();
        this.windowQueries = new float[shape.layers()][window * shape.queryDim()];
        this.windowCount = new int[shape.layers()];
    }

    /**
     * The presses of the policy that run on {@code layer}: all of them on ordinary layers; on a
     * sliding-window layer, channel pruning and per-token quantization but neither eviction nor KIVI
     * (why: see the class comment).
     */
    List<KvPress> pressesFor(int layer) {
        return forLayer(policy.presses(), layer);
    }

    private List<KvPress> forLayer(List<KvPress> presses, int layer) {
        if (shape.window(layer) == 0) {
            return presses;
        }
        return presses.stream().filter(p -> p.stage() != KvPress.Stage.EVICT && !(p instanceof KiviPress)).toList();
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

    HeadCache head(int layer, int kvHead) {
        return heads[layer][kvHead];
    }

    /** Tokens one (layer, KV head) holds. */
    public int length(int layer, int kvHead) {
        return heads[layer][kvHead].length();
    }

    /**
     * Unscaled logits of one query head's q (headDim floats at qOff) against every token the layer
     * holds for its KV head, in cache order, into out; returns the token count.
     */
    public int logits(int layer, int queryHead, float[] q, int qOff, float[] out) {
        return heads[layer][queryHead / shape.groupSize()].scores(q, qOff, out, new float[shape.headDim()]);
    }

    @Override
    public int position() {
        return position;
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
        if (prefilled && head.observesAttention()) {
            synchronized (head) {
                for (int i = 0; i < group; i++) {
                    head.observe(s[0], i * n, n);
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
                head.afterToken(generated);
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
        List<KvPress> presses = prepared();
        int total = shape.layers() * shape.kvHeads();
        Parallel.forRange(total, i -> {
            int layer = i / shape.kvHeads();
            int g = i % shape.kvHeads();
            HeadObservation seen = observe(layer, g);
            heads[layer][g].apply(seen, plan(seen, forLayer(presses, layer)));
        });
        java.util.Arrays.fill(windowCount, 0);
    }

    /**
     * What the next compression point would decide for every head, without doing it: plans indexed
     * [layer][kvHead] (for reports such as the kept channels; needs a prefilled, uncompressed cache).
     */
    public HeadPlan[][] plans() {
        List<KvPress> presses = prepared();
        HeadPlan[][] out = new HeadPlan[shape.layers()][shape.kvHeads()];
        int total = shape.layers() * shape.kvHeads();
        Parallel.forRange(total, i -> out[i / shape.kvHeads()][i % shape.kvHeads()]
                = plan(observe(i / shape.kvHeads(), i % shape.kvHeads()), forLayer(presses, i / shape.kvHeads())));
        return out;
    }

    private static HeadPlan plan(HeadObservation seen, List<KvPress> presses) {
        HeadPlan plan = HeadPlan.keepAll(seen.tokenCount());
        for (KvPress p : presses) {
            plan = p.compress(seen, plan);
        }
        return plan;
    }

    /** The policy's presses, each given its chance to look at every head first (model-wide budgets). */
    private List<KvPress> prepared() {
        List<KvPress> done = new ArrayList<>();
        for (KvPress p : policy.presses()) {
            List<KvPress> before = List.copyOf(done);
            done.add(p.prepare(new KvPress.Heads() {
                @Override
                public KvShape shape() {
                    return shape;
                }

                @Override
                public <R> List<R> map(BiFunction<HeadObservation, HeadPlan, R> f) {
                    int total = shape.layers() * shape.kvHeads();
                    List<R> out = new ArrayList<>(java.util.Collections.nCopies(total, null));
                    // each task sets its own element; the join orders the writes before the return
                    Parallel.forRange(total, i -> {
                        HeadObservation seen = observe(i / shape.kvHeads(), i % shape.kvHeads());
                        out.set(i, f.apply(seen, plan(seen, forLayer(before, seen.layer()))));
                    });
                    return out;
                }
            }));
        }
        return done;
    }

    /** What a press sees of one head now: its dense tail and the recorded window queries. */
    public HeadObservation observe(int layer, int g) {
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
        return new HeadObservation(layer, g, shape.layers(), d, keys, values, wq, w, group);
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

    /**
     * Writes everything needed to continue as if never interrupted: positions, whether the first
     * prefill happened, the window queries recorded since the last compression point (the next
     * turn's compression reads them), and every head as stored (see HeadCache#writeState). Nothing
     * is decompressed: quantized codes, pruned channels and evicted layouts go out as they are.
     */
    public void writeState(StateWriter out) {
        out.i32(shape.layers()).i32(shape.kvHeads()).i32(shape.headDim()).i32(window);
        out.i32(position).i32(generated).u8(prefilled ? 1 : 0);
        int qd = shape.queryDim();
        for (int l = 0; l < shape.layers(); l++) {
            int w = Math.min(window, windowCount[l]);
            out.i32(w);
            for (int t = 0; t < w; t++) {
                int slot = (windowCount[l] - w + t) % window;
                out.floats(windowQueries[l], slot * qd, qd);
            }
        }
        List<StoreFormat<?, ?>> formats = KvStateCodec.formats(policy);
        for (HeadCache[] layer : heads) {
            for (HeadCache h : layer) {
                h.writeState(out, formats);
            }
        }
    }

    /**
     * Replaces this cache's content with a state {@link #writeState} wrote for the same shape and
     * policy (the caller checks those; see dev.think4j.kv.session). On a malformed state the cache
     * is left empty and a one-line error is thrown.
     */
    public void readState(StateReader in) {
        clear();
        try {
            int layers = in.i32();
            int kvHeads = in.i32();
            int headDim = in.i32();
            int w = in.i32();
            if (layers != shape.layers() || kvHeads != shape.kvHeads() || headDim != shape.headDim() || w != window) {
                throw in.corrupt("cache of " + layers + " layers x " + kvHeads + " KV heads x " + headDim
                        + " (window " + w + ") for a model of " + shape.layers() + " x " + shape.kvHeads() + " x "
                        + shape.headDim() + " (window " + window + ")");
            }
            position = in.count("position", 0, Integer.MAX_VALUE);
            generated = in.count("generated tokens", 0, Integer.MAX_VALUE);
            prefilled = in.u8() != 0;
            int qd = shape.queryDim();
            for (int l = 0; l < shape.layers(); l++) {
                int n = in.count("window queries", 0, window);
                in.floats(windowQueries[l], 0, n * qd);
                windowCount[l] = n;
            }
            List<StoreFormat<?, ?>> formats = KvStateCodec.formats(policy);
            for (HeadCache[] layer : heads) {
                for (HeadCache h : layer) {
                    h.readState(in, formats);
                }
            }
            for (int l = 0; l < shape.layers(); l++) {
                int first = heads[l][0].length();
                for (HeadCache h : heads[l]) {
                    if (h.length() != first) {
                        throw in.corrupt("layer " + l + " holds " + first + " tokens in one KV head and " + h.length() + " in another");
                    }
                }
                int cap = shape.window(l);
                if (cap > 0 && first > cap) {
                    throw in.corrupt("sliding-window layer " + l + " holds " + first + " tokens, more than its window " + cap);
                }
            }
        } catch (RuntimeException e) {
            clear();
            throw e;
        }
    }

    @Override
    public void clear() {
        for (int l = 0; l < shape.layers(); l++) {
            for (int g = 0; g < shape.kvHeads(); g++) {
                heads[l][g].release();
                heads[l][g] = new HeadCache(l, g, shape.headDim(), shape.window(l));
            }
        }
        java.util.Arrays.fill(windowCount, 0);
        position = 0;
        generated = 0;
        prefilled = false;
    }
}
