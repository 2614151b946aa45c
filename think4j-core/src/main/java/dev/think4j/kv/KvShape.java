package dev.think4j.kv;

/** Geometry of a model's KV cache. */
public record KvShape(int layers, int heads, int kvHeads, int headDim) {
    public KvShape {
        if (layers < 1 || heads < 1 || kvHeads < 1 || headDim < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("bad KV shape " + layers + "x" + heads + "/" + kvHeads + "x" + headDim);
        }
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

    /** Dense float32 bytes per token (keys and values, all layers and KV heads). */
    public long denseBytesPerToken() {
        return 2L * layers * kvHeads * headDim * Float.BYTES;
    }
}
