package dev.think4j.kv;

/**
 * Geometry of a model's KV cache. {@code windows[l] > 0} marks a sliding-window layer (Gemma 3's
 * local layers): its queries see only the last {@code windows[l]} positions, so the cache holds at
 * most that many tokens there and frees older ones (see {@link CompressedKvCache}); null or 0 means
 * the layer keeps every token.
 */
public record KvShape(int layers, int heads, int kvHeads, int headDim, int[] windows) {
    public KvShape {
        if (layers < 1 || heads < 1 || kvHeads < 1 || headDim < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("bad KV shape " + layers + "x" + heads + "/" + kvHeads + "x" + headDim);
        }
        if (windows != null) {
            if (windows.length != layers) {
                throw new IllegalArgumentException(windows.length + " layer windows for " + layers + " layers");
            }
            windows = windows.clone();
        }
    }

    public KvShape(int layers, int heads, int kvHeads, int headDim) {
        this(layers, heads, kvHeads, headDim, null);
    }

    public int groupSize() {
        return heads / kvHeads;
    }

    public int queryDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Tokens layer {@code l} keeps at most, 0 for all of them. */
    public int window(int layer) {
        return windows == null ? 0 : windows[layer];
    }

    /** Dense float32 bytes per token (keys and values, all layers and KV heads). */
    public long denseBytesPerToken() {
        return 2L * layers * kvHeads * headDim * Float.BYTES;
    }

    /** Dense float32 bytes of a cache after {@code tokens} tokens: sliding-window layers count at most their window. */
    public long denseBytes(long tokens) {
        long perLayerToken = 2L * kvHeads * headDim * Float.BYTES;
        long b = 0;
        for (int l = 0; l < layers; l++) {
            int w = window(l);
            b += (w > 0 ? Math.min(tokens, w) : tokens) * perLayerToken;
        }
        return b;
    }
}
