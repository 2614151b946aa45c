package dev.think4j.kv;

/**
 * Cached keys of one (layer, KV head) segment in some physical layout (float rows, quantized groups...).
 * Width is the number of stored channels, which may be fewer than the head dimension after pruning:
 * the caller hands in the query already gathered to those channels.
 */
public interface KeyStore extends Releasable {
    int tokens();

    int width();

    /** out[outOff + t] = q[qOff ..] . key_t (unscaled) for every stored token t. */
    void scores(float[] q, int qOff, float[] out, int outOff);

    /**
     * Scores of {@code nq} queries sharing this KV head (grouped-query attention): query i is at
     * q[qOff + i * qStride ..], its scores go to out[outOff + i * outStride + t]. Stores override
     * this to read (and decode) each key once for all the queries.
     */
    default void scores(float[] q, int qOff, int qStride, int nq, float[] out, int outOff, int outStride) {
        for (int i = 0; i < nq; i++) {
            scores(q, qOff + i * qStride, out, outOff + i * outStride);
        }
    }

    /** Exact bytes held, including scales, zero points and any per-store metadata. */
    long bytes();

    /** Decodes token t's stored channels into out[outOff ..] (analysis, tests, re-encoding). */
    void row(int t, float[] out, int outOff);
}
