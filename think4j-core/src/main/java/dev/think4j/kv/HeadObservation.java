package dev.think4j.kv;

/**
 * What a press sees of one (layer, KV head) at a compression point: the candidate tokens' keys and
 * values (full width, post-RoPE, in cache order) and the observation window's queries. Presses
 * read it and never write it; their decisions go into a {@link HeadPlan}.
 *
 * @param windowQueries post-RoPE queries of the query heads sharing this KV head over the last
 *                      {@code window} prompt positions; row {@code h * window + t} is group head h at
 *                      window position t
 * @param window        observation-window positions actually recorded (may be below the configured W)
 * @param layers        the model's layer count (per-layer settings are checked against it)
 */
public record HeadObservation(int layer, int kvHead, int layers, int headDim, float[][] keys, float[][] values,
                              float[][] windowQueries, int window, int groupSize) {

    public int tokenCount() {
        return keys.length;
    }

    /** The given tokens' keys, full width, in order (shared rows, not copies). */
    public float[][] keys(int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = keys[tokens[i]];
        }
        return out;
    }
}
