package dev.think4j.kv;

import java.util.stream.IntStream;

/**
 * What one (layer, KV head) looks like at a compression point, and the decisions presses make about
 * it. Presses run in stage order (evict, prune, quantize) and each narrows the plan:
 * <ul>
 *   <li>eviction replaces {@link #keptTokens()} (indices into {@link #keys()}, increasing);</li>
 *   <li>pruning sets key/value channel lists and asks for a full-width tail of recent tokens;</li>
 *   <li>quantization sets the {@link SegmentEncoder} and may enlarge the full-width tail.</li>
 * </ul>
 * Tokens before the tail become one compressed segment; the tail stays dense and full width.
 */
public final class HeadCompression {
    private final int layer;
    private final int kvHead;
    private final int headDim;
    private final float[][] keys;
    private final float[][] values;
    private final float[][] windowQueries;
    private final int window;
    private final int groupSize;
    private final int layers;

    private int[] keptTokens;
    private int fullWidthTail = -1;
    private int[] keyChannels;
    private int[] valueChannels;
    private SegmentEncoder encoder = SegmentEncoder.FLOAT;
    private int encodedPrefix = -1;
    private final java.util.Map<Object, Object> attachments = new java.util.HashMap<>();

    /**
     * @param windowQueries post-RoPE queries of the query heads sharing this KV head over the last
     *                      {@code window} prompt positions; row {@code h * window + t} is group head h at
     *                      window position t
     */
    public HeadCompression(int layer, int kvHead, float[][] keys, float[][] values, float[][] windowQueries,
                           int window, int groupSize) {
        this(layer, kvHead, keys, values, windowQueries, window, groupSize, layer + 1);
    }

    /** @param layers the model's layer count (per-layer settings are validated against it) */
    public HeadCompression(int layer, int kvHead, float[][] keys, float[][] values, float[][] windowQueries,
                           int window, int groupSize, int layers) {
        this.layer = layer;
        this.kvHead = kvHead;
        this.headDim = keys.length > 0 ? keys[0].length : (windowQueries.length > 0 ? windowQueries[0].length : 0);
        this.keys = keys;
        this.values = values;
        this.windowQueries = windowQueries;
        this.window = window;
        this.groupSize = groupSize;
        this.layers = layers;
        this.keptTokens = IntStream.range(0, keys.length).toArray();
    }

    public int layer() {
        return layer;
    }

    public int kvHead() {
        return kvHead;
    }

    public int headDim() {
        return headDim;
    }

    /** All candidate tokens' keys, full width, post-RoPE (read-only). */
    public float[][] keys() {
        return keys;
    }

    public float[][] values() {
        return values;
    }

    public int tokenCount() {
        return keys.length;
    }

    public float[][] windowQueries() {
        return windowQueries;
    }

    /** Number of observation-window positions actually available (may be below the configured W). */
    public int window() {
        return window;
    }

    public int groupSize() {
        return groupSize;
    }

    public int layers() {
        return layers;
    }

    public int[] keptTokens() {
        return keptTokens;
    }

    public void setKeptTokens(int[] kept) {
        for (int i = 1; i < kept.length; i++) {
            if (kept[i] <= kept[i - 1]) {
                throw new IllegalArgumentException("kept tokens must be strictly increasing");
            }
        }
        this.keptTokens = kept;
    }

    /** Kept tokens' keys, full width, in order. */
    public float[][] keptKeys() {
        return select(keys);
    }

    public float[][] keptValues() {
        return select(values);
    }

    private float[][] select(float[][] rows) {
        float[][] out = new float[keptTokens.length][];
        for (int i = 0; i < keptTokens.length; i++) {
            out[i] = rows[keptTokens[i]];
        }
        return out;
    }

    /** The last {@code n} kept tokens must stay dense and full width (max over all requests). */
    public void requireFullWidthTail(int n) {
        fullWidthTail = Math.max(fullWidthTail, Math.min(n, keptTokens.length));
    }

    /** Tokens left in the dense tail: all kept tokens when no press asked for compression. */
    public int fullWidthTail() {
        return fullWidthTail < 0 ? keptTokens.length : fullWidthTail;
    }

    public boolean compressionRequested() {
        return fullWidthTail >= 0;
    }

    public int[] keyChannels() {
        return keyChannels;
    }

    public void setKeyChannels(int[] channels) {
        this.keyChannels = channels;
    }

    public int[] valueChannels() {
        return valueChannels;
    }

    public void setValueChannels(int[] channels) {
        this.valueChannels = channels;
    }

    public SegmentEncoder encoder() {
        return encoder;
    }

    public void setEncoder(SegmentEncoder encoder) {
        this.encoder = encoder;
    }

    /**
     * Only the first {@code tokens} compressed tokens go through the encoder; the rest of the body
     * (e.g. KIVI's full-precision residual inside ThinK's pruned range) is stored as narrowed floats.
     */
    public void setEncodedPrefix(int tokens) {
        this.encodedPrefix = tokens;
    }

    /** Compressed tokens the encoder stores (the whole body unless limited). */
    public int encodedPrefix(int body) {
        return encodedPrefix < 0 ? body : Math.min(encodedPrefix, body);
    }

    /** Hands per-head state to the cache (e.g. H2O scores of the kept tokens), keyed by the press. */
    public void attach(Object press, Object state) {
        attachments.put(press, state);
    }

    public java.util.Map<Object, Object> attachments() {
        return attachments;
    }
}
